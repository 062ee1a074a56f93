"""Which assignment group an inquiry probably belongs to, and the support playbook's triage words.

Rules live in ``routing_rules.toml`` (shipped with the package; another file can be given) so the
support team can tune them without a code change. A suggestion is only a suggestion: the engineer
on duty confirms it with the card's group button.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "TRIAGE_CATEGORIES",
    "RoutingRule",
    "RoutingRuleError",
    "Suggestion",
    "TriageCategory",
    "load_routing_rules",
    "suggest_group",
]


@dataclass(frozen=True)
class TriageCategory:
    key: str
    label: str
    meaning: str


# The support playbook's triage categories, in the order the playbook lists them.
TRIAGE_CATEGORIES: tuple[TriageCategory, ...] = (
    TriageCategory("bug", "Bug", "The product does not behave as designed; needs a fix."),
    TriageCategory(
        "error", "Error", "An error message or failure the user hit; may be transient or data-related."
    ),
    TriageCategory("quick_question", "Quick question", "A short how-to question answered in the thread."),
    TriageCategory("training_need", "Training need", "The user needs training or a walkthrough."),
    TriageCategory(
        "documented_answer", "Documented answer", "The answer is in existing documentation; link it."
    ),
    TriageCategory(
        "not_our_system", "Not our system", "The problem belongs to another system or team; redirect."
    ),
    TriageCategory("user_can_get_data", "Data the user can get", "The user can look the data up themselves."),
    TriageCategory("admin_action", "Admin action", "Needs an administrator to change a setting or access."),
    TriageCategory(
        "data_change_request", "Data change request", "Stored data must be corrected by the team."
    ),
)


class RoutingRuleError(ValueError):
    """The rules file is missing a field or holds a bad regular expression."""


@dataclass(frozen=True)
class RoutingRule:
    name: str
    group: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        folded = text.casefold()
        return any(k in folded for k in self.keywords) or any(p.search(text) for p in self.patterns)


@dataclass(frozen=True)
class Suggestion:
    group: str
    rule_name: str


def load_routing_rules(
    path: Path | str | None = None,
    *,
    tier2_group: str = "Scheduling Support",
    product_group: str = "eCheck-in Vet Facing Apps",
) -> tuple[RoutingRule, ...]:
    """Rules from ``path`` (default: the packaged ``routing_rules.toml``), group names filled in."""
    if path is None:
        text = resources.files("servicenow").joinpath("routing_rules.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingRuleError(f"routing rules are not valid TOML: {exc}") from exc
    rules = []
    for index, raw in enumerate(data.get("rule", []), start=1):
        name, group = raw.get("name"), raw.get("group")
        if not isinstance(name, str) or not isinstance(group, str) or not name or not group:
            raise RoutingRuleError(f"rule {index}: 'name' and 'group' are required")
        group = group.replace("{tier2}", tier2_group).replace("{product}", product_group)
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in raw.get("patterns", []))
        except re.error as exc:
            raise RoutingRuleError(f"rule {name!r}: bad pattern: {exc}") from exc
        keywords = tuple(str(k).casefold() for k in raw.get("keywords", []))
        rules.append(RoutingRule(name=name, group=group, keywords=keywords, patterns=patterns))
    return tuple(rules)


def suggest_group(text: str, rules: Iterable[RoutingRule]) -> Suggestion | None:
    """The first rule that matches ``text``, as a suggestion; None when no rule matches."""
    for rule in rules:
        if rule.matches(text):
            return Suggestion(group=rule.group, rule_name=rule.name)
    return None
