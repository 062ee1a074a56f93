"""The one command registry: the bot's parser, its dispatch rules, the ``help`` reply and the
manifest's command lists.

Commands are plain text addressed to the bot (``@Go Live Bridge route tier2``). The handler strips the
bot's own mention (``TurnContext.remove_recipient_mention``) before calling :func:`parse_command`;
the parser also drops any leftover ``<at>...</at>`` tags and HTML entities, so either order works.

Each command says where it works (``places``: a go-live thread, the management channel, a personal
chat) and who may run it (``audience``); ``bot.bridge.dispatch`` applies both before it calls the
command's handler, and has exactly one handler per command here. ``scopes`` (the Teams manifest's
``team`` and ``personal``) follow from the places. A post is a command only when its first word(s)
name a command here, so only posts that @mention the bot are parsed: site staff writing
"help, the kiosk is down" in a go-live channel are asking for help, not typing ``help``.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

Scope = Literal["team", "personal"]
TEAM: Final[Scope] = "team"
PERSONAL: Final[Scope] = "personal"
SCOPES: Final[tuple[Scope, ...]] = (TEAM, PERSONAL)

#: Where a command is typed: an inquiry's thread in a go-live channel, the management channel, or a
#: personal (1:1) chat with the bot.
Place = Literal["thread", "channel", "personal"]
THREAD: Final[Place] = "thread"
CHANNEL: Final[Place] = "channel"
#: Who may run a command.
Audience = Literal["anyone", "engineer", "manager"]

#: Teams renders at most this many commands per scope in the compose box menu (schema ``maxItems``).
MANIFEST_MAX_COMMANDS: Final = 10
#: Teams documents 32 characters for a command title; we hold descriptions to the same limit.
MANIFEST_MAX_TITLE: Final = 32
MANIFEST_MAX_DESCRIPTION: Final = 32

#: ServiceNow's out-of-box incident close codes (``incident.close_code`` choices).
CLOSE_CODES: Final[tuple[str, ...]] = (
    "Duplicate",
    "Known error",
    "No resolution provided",
    "Resolved by caller",
    "Resolved by change",
    "Resolved by problem",
    "Resolved by request",
    "Solution provided",
    "Workaround provided",
)

#: Arguments of ``route``: the word a person types -> which configured assignment group it means.
ROUTE_TARGETS: Final[Mapping[str, Literal["tier2", "product"]]] = MappingProxyType(
    {
        "tier2": "tier2",
        "tier 2": "tier2",
        "t2": "tier2",
        "product": "product",
        "vfa": "product",
        "vet facing apps": "product",
    }
)


@dataclass(frozen=True)
class CommandSpec:
    """One command. ``name`` is what a person types first (one or two lower-case words).

    ``manifest_scopes`` lists the scopes whose Teams command menu shows this command (a subset of
    ``scopes``); Teams shows at most ten per scope, so the choice is made here, once.
    """

    name: str
    usage: str
    description: str
    places: frozenset[Place]
    audience: Audience = "anyone"
    manifest_scopes: frozenset[Scope] = frozenset()

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    @property
    def manager_only(self) -> bool:
        return self.audience == "manager"

    @property
    def scopes(self) -> frozenset[Scope]:
        """The Teams scopes this command works in (``team`` covers threads and the management channel)."""
        scopes: set[Scope] = set()
        if self.places & {THREAD, CHANNEL}:
            scopes.add(TEAM)
        if PERSONAL in self.places:
            scopes.add(PERSONAL)
        return frozenset(scopes)

    def available(self, scope: Scope | Place, is_manager: bool) -> bool:
        where = self.scopes if scope in SCOPES else self.places
        return scope in where and (is_manager or not self.manager_only)


_BOTH: frozenset[Scope] = frozenset({TEAM, PERSONAL})
_TEAM: frozenset[Scope] = frozenset({TEAM})
_PERSONAL: frozenset[Scope] = frozenset({PERSONAL})
_EVERYWHERE: frozenset[Place] = frozenset({THREAD, CHANNEL, "personal"})
_IN_THREAD: frozenset[Place] = frozenset({THREAD})
_NOT_IN_THREAD: frozenset[Place] = frozenset({CHANNEL, "personal"})
_PERSONAL_ONLY: frozenset[Place] = frozenset({"personal"})

COMMANDS: Final[tuple[CommandSpec, ...]] = (
    CommandSpec("help", "help", "Show what I can do", _EVERYWHERE, manifest_scopes=_BOTH),
    CommandSpec("duty", "duty", "Who is on duty now", _EVERYWHERE, manifest_scopes=_BOTH),
    CommandSpec("log", "log", "Log this post as an inquiry", _IN_THREAD, manifest_scopes=_TEAM),
    CommandSpec("ack", "ack", "Acknowledge this incident", _IN_THREAD, "engineer", manifest_scopes=_TEAM),
    CommandSpec(
        "route",
        "route tier2 | route product",
        "Move incident: tier2 or product",
        _IN_THREAD,
        "engineer",
        manifest_scopes=_TEAM,
    ),
    CommandSpec(
        "assign me", "assign me", "Assign this incident to me", _IN_THREAD, "engineer", manifest_scopes=_TEAM
    ),
    CommandSpec(
        "resolve",
        "resolve <close code> | <notes>",
        "Resolve: close code | notes",
        _IN_THREAD,
        "engineer",
        manifest_scopes=_TEAM,
    ),
    CommandSpec(
        "triage",
        "triage <category>",
        "Set the triage category",
        _IN_THREAD,
        "engineer",
        manifest_scopes=_TEAM,
    ),
    CommandSpec("status", "status", "Incident status for this thread", _IN_THREAD, manifest_scopes=_TEAM),
    CommandSpec("swap", "swap", "Swap primary and backup today", _NOT_IN_THREAD, manifest_scopes=_PERSONAL),
    CommandSpec(
        "schedule show",
        "schedule show [YYYY-MM-DD]",
        "Show the rollout plan",
        _NOT_IN_THREAD,
        manifest_scopes=_BOTH,
    ),
    CommandSpec(
        "schedule preview",
        "schedule preview",
        "Preview channel opens/retires",
        _NOT_IN_THREAD,
        manifest_scopes=_PERSONAL,
    ),
    CommandSpec(
        "roster show", "roster show", "Show the duty roster", _NOT_IN_THREAD, manifest_scopes=_PERSONAL
    ),
    CommandSpec(
        "roster import",
        "roster import, then the roster CSV on the next lines",
        "Replace the roster (managers)",
        _PERSONAL_ONLY,
        "manager",
    ),
    CommandSpec(
        "week add",
        "week add <YYYY-MM-DD>",
        "Add a rollout week (managers)",
        _NOT_IN_THREAD,
        "manager",
        manifest_scopes=_PERSONAL,
    ),
    CommandSpec(
        "site add",
        "site add <week> <station> <name> <time zone> [go-live date]",
        "Add a site to a week",
        _NOT_IN_THREAD,
        "manager",
        manifest_scopes=_PERSONAL,
    ),
    CommandSpec(
        "site move",
        "site move <station> <week> [go-live date]",
        "Move a site to another week",
        _NOT_IN_THREAD,
        "manager",
        manifest_scopes=_PERSONAL,
    ),
    CommandSpec(
        "site pull",
        "site pull <station> [force]",
        "Pull a site from the plan",
        _NOT_IN_THREAD,
        "manager",
        manifest_scopes=_PERSONAL,
    ),
    CommandSpec(
        "audit",
        "audit [action] [station]",
        "Last 20 changes (managers)",
        _NOT_IN_THREAD,
        "manager",
    ),
)


@dataclass(frozen=True)
class ParsedCommand:
    """A recognised command: ``name`` is a :class:`CommandSpec` name; ``raw_args`` keeps the case and
    spacing the person typed (for free text such as resolution notes)."""

    name: str
    args: list[str]
    raw_args: str

    @property
    def spec(self) -> CommandSpec:
        spec = find_command(self.name)
        assert spec is not None, self.name  # parse_command only builds known names
        return spec


def find_command(name: str) -> CommandSpec | None:
    wanted = " ".join(name.lower().split())
    return next((spec for spec in COMMANDS if spec.name == wanted), None)


def commands_for(scope: Scope | Place, is_manager: bool) -> tuple[CommandSpec, ...]:
    """The commands a person may use in ``scope``, in registry order."""
    return tuple(spec for spec in COMMANDS if spec.available(scope, is_manager))


def manifest_commands(scope: Scope) -> tuple[CommandSpec, ...]:
    """The commands listed in the Teams manifest for ``scope`` (at most ten), in registry order."""
    return tuple(spec for spec in COMMANDS if scope in spec.manifest_scopes)


_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Teams and mobile keyboards turn straight quotes into typographic ones; shlex only knows the former.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})
# Longest names first so "schedule show" wins over a hypothetical "schedule"; a name must end at a
# space or the end of the text, so "helpdesk" is not "help".
_PATTERNS = tuple(
    (spec, re.compile(r"\s+".join(map(re.escape, spec.words)) + r"(?=\s|$)", re.IGNORECASE))
    for spec in sorted(COMMANDS, key=lambda spec: len(spec.words), reverse=True)
)


def _clean(text: str) -> str:
    text = _MENTION.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text).replace("\u00a0", " ")
    return text.translate(_QUOTES).strip()


def _split_args(raw_args: str) -> list[str]:
    try:
        return shlex.split(raw_args)
    except ValueError:
        # Unbalanced quotes ("site add 2022-05-09 508 "Palo Alto ..."): plain words are still useful.
        return raw_args.split()


def parse_command(text: str) -> ParsedCommand | None:
    """Parse a message into a command, or ``None`` when its first word(s) name no command.

    Case-insensitive for the command name, tolerant of a leading ``/``, extra spaces, a leftover bot
    mention and HTML; arguments keep their case and may be quoted.
    """
    cleaned = _clean(text)
    if cleaned.startswith("/"):
        cleaned = cleaned[1:].lstrip()
    if not cleaned:
        return None
    for spec, pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            raw_args = cleaned[match.end() :].strip()
            return ParsedCommand(name=spec.name, args=_split_args(raw_args), raw_args=raw_args)
    return None


def parse_route_target(args: list[str]) -> Literal["tier2", "product"] | None:
    """``route tier2`` / ``route Tier 2`` / ``route product`` -> which assignment group is meant."""
    return ROUTE_TARGETS.get(" ".join(" ".join(args).lower().split()))


def parse_group(value: str, groups: tuple[str, str]) -> str | None:
    """A route target (``tier2``, ``vfa``...) or a group's own name -> the configured group's name.

    ``groups`` is (Tier 2 group, product group), as configured.
    """
    target = parse_route_target([value])
    if target is not None:
        return groups[0] if target == "tier2" else groups[1]
    wanted = " ".join(value.lower().split())
    return next((group for group in groups if group.lower() == wanted), None)


def parse_resolve_args(raw_args: str) -> tuple[str, str] | None:
    """``<close code> | <notes>`` -> (canonical close code, notes), or ``None`` when either is missing
    or the close code is not one of :data:`CLOSE_CODES` (matched case-insensitively)."""
    code, sep, notes = raw_args.partition("|")
    if not sep:
        return None
    wanted = " ".join(code.split()).lower()
    canonical = next((known for known in CLOSE_CODES if known.lower() == wanted), None)
    notes = notes.strip()
    if canonical is None or not notes:
        return None
    return canonical, notes


def help_text(scope: Scope | Place, is_manager: bool) -> str:
    """The ``help`` reply as markdown: one line per command the person may use here."""
    lines = ["Here is what I can do:"]
    lines += [f"- `{spec.usage}`: {spec.description}" for spec in commands_for(scope, is_manager)]
    if scope in (TEAM, THREAD):
        lines.append("")
        lines.append("In a go-live channel every new post becomes a ServiceNow incident; no command needed.")
    return "\n".join(lines)
