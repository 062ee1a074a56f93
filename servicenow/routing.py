"""Which assignment group an inquiry probably belongs to, and the support handbook's triage guide.

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
    "triage_category",
]


@dataclass(frozen=True)
class TriageCategory:
    """One of the support handbook's triage categories: what the inquiry is (``meaning``) and what
    the engineer on duty does about it (``guidance``, shown when the category is chosen)."""

    key: str
    label: str
    meaning: str
    guidance: str


# The support handbook's triage guide, in the order the handbook lists it.
TRIAGE_CATEGORIES: tuple[TriageCategory, ...] = (
    TriageCategory(
        "bug",
        "Bug",
        "The product does not behave as designed; needs a fix.",
        "Verify it (reproduce it, or find it in the logs), then file a follow-up issue and tell the "
        "site the workaround and that a fix is tracked.",
    ),
    TriageCategory(
        "error",
        "Error",
        "An error message or failure the user hit; may be transient or data-related.",
        "Say what causes the error (data, configuration, a transient outage) and what the user can do "
        "about it now.",
    ),
    TriageCategory(
        "quick_question",
        "Quick question",
        "A short how-to question answered in the thread.",
        "Answer it in the thread.",
    ),
    TriageCategory(
        "training_need",
        "Training need",
        "The user needs training or a walkthrough.",
        "Forward it to the site's trainer and tell the user who will follow up.",
    ),
    TriageCategory(
        "documented_answer",
        "Documented answer",
        "The answer is in existing documentation; link it.",
        "Link the documentation page that answers it (and the section).",
    ),
    TriageCategory(
        "not_our_system",
        "Not our system",
        "The problem belongs to another system or team; redirect.",
        "Redirect the user to the team that owns it (name the team and how to reach them).",
    ),
    TriageCategory(
        "user_can_get_data",
        "Data the user can get",
        "The user can look the data up themselves.",
        "Show them how to get it themselves (the screen or report, step by step).",
    ),
    TriageCategory(
        "admin_action",
        "Admin action",
        "An operation the site's administrators can do in the admin panel.",
        "Point them to the admin panel page that does it (and who at the site has access).",
    ),
    TriageCategory(
        "data_change_request",
        "Data change request",
        "Stored data would have to be overridden by hand by the team.",
        "Estimate the risk of the manual override before anything else, and err on refusing: offer "
        "the supported way instead when there is one.",
    ),
)


def triage_category(value: str) -> TriageCategory | None:
    """The category named by ``value`` (its key or label, any letter case), or None."""
    wanted = value.strip().lower()
    if not wanted:
        return None
    return next((c for c in TRIAGE_CATEGORIES if wanted in (c.key.lower(), c.label.lower())), None)


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
