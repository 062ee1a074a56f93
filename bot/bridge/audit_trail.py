"""The audit trail, read back: who changed what, newest first, for ``golive audit``, ``GET /api/audit``,
the dashboard's "Changes" panel and the managers' ``audit`` command in Teams.

Rows are written by ``records.audit`` with one of the action names of docs/CONTRACTS.md section 6
(``plan.import``, ``plan.week_add``, ``site.add``, ``site.move``, ``site.pull``, ``roster.import``,
``roster.sync``, ``duty.swap``, ``incident.*``, ``action.refused``). An :class:`AuditQuery` filters
them by instant, action and site:

- an action filter is an exact name (``site.pull``), or a family: ``site``, ``site.`` or ``site.*``
  (every ``site.`` action);
- a site filter is a station number (``508``), matched against the stations each row is about.

Every entry reads as ``{"at", "actor", "action", "detail"}`` (``AuditEntry.as_json``). Filters are
checked by :func:`parse_filters`, whose ``AuditFilterError`` message is a friendly sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import tables

#: Every action the product audits (docs/CONTRACTS.md section 6); their families are filters too.
ACTIONS: tuple[str, ...] = (
    "plan.import",
    "plan.week_add",
    "site.add",
    "site.move",
    "site.pull",
    "roster.import",
    "roster.sync",
    "duty.swap",
    "incident.acknowledge",
    "incident.route",
    "incident.resolve",
    "incident.followup",
    "incident.assign_me",
    "incident.triage",
    "incident.set_site",
    "action.refused",
    "inbox.retry",
    "inbox.drop",
    "retention.purge",
)
FAMILIES: frozenset[str] = frozenset(action.split(".", 1)[0] for action in ACTIONS)
#: How many rows the Teams ``audit`` command shows.
CHAT_LIMIT = 20

_ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z_]*\*?)?")
_STATION = re.compile(r"[0-9A-Za-z]{1,20}")


class AuditFilterError(ValueError):
    """A filter that cannot be used; the message says why, for people."""


@dataclass(frozen=True)
class AuditQuery:
    since: datetime | None = None
    action: str | None = None
    station: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: str
    stations: tuple[str, ...] = ()

    def as_json(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "actor": self.actor, "action": self.action, "detail": self.detail}

    @property
    def headline(self) -> str:
        """The detail's first line, and how many more there are."""
        lines = self.detail.splitlines() or [""]
        more = len(lines) - 1
        return lines[0] + (f" (+{more} more line{'s' if more > 1 else ''})" if more else "")


def check_action(text: str) -> str:
    """An action filter, normalised (``Site`` -> ``site.*``); ``AuditFilterError`` when malformed."""
    value = text.strip().lower()
    if value in FAMILIES:
        return f"{value}.*"
    if value.endswith(".") and value[:-1] in FAMILIES:
        return f"{value}*"
    if not _ACTION.fullmatch(value) or "." not in value:
        raise AuditFilterError(
            f"{text.strip()[:40]!r} is not an action; use one of {', '.join(ACTIONS)} "
            f"or a family such as site.*"
        )
    return value


def check_station(text: str) -> str:
    value = text.strip().upper()
    if not _STATION.fullmatch(value):
        raise AuditFilterError(f"{text.strip()[:40]!r} is not a station number (like 508 or 528A7)")
    return value


def parse_filters(words: Sequence[str]) -> tuple[str | None, str | None]:
    """The ``audit`` command's words -> (action filter, station filter): a word with a dot or a
    family name is an action, anything else a station; at most one of each."""
    action = station = None
    for word in words:
        if "." in word or word.strip().lower() in FAMILIES:
            if action is not None:
                raise AuditFilterError("give at most one action to filter by")
            action = check_action(word)
        else:
            if station is not None:
                raise AuditFilterError("give at most one station to filter by")
            station = check_station(word)
    return action, station


async def read_audit(connection: AsyncConnection, query: AuditQuery = AuditQuery()) -> list[AuditEntry]:
    """The rows matching ``query``, newest first."""
    log = tables.audit_log
    statement = select(log).order_by(log.c.at.desc(), log.c.id.desc())
    if query.since is not None:
        statement = statement.where(log.c.at >= query.since)
    if query.action:
        action = check_action(query.action)
        if action.endswith("*"):
            # Family names are [a-z_] only, so the prefix holds no LIKE wildcard but "_": escape it.
            prefix = action[:-1].replace("_", "\\_")
            statement = statement.where(log.c.action.like(f"{prefix}%", escape="\\"))
        else:
            statement = statement.where(log.c.action == action)
    if query.station:
        statement = statement.where(log.c.stations.like(f"% {check_station(query.station)} %"))
    if query.limit is not None:
        statement = statement.limit(max(0, query.limit))
    rows = (await connection.execute(statement)).all()
    return [
        AuditEntry(row.at, row.actor, row.action, row.detail, tuple((row.stations or "").split()))
        for row in rows
    ]


def audit_text(entries: Sequence[AuditEntry], action: str | None = None, station: str | None = None) -> str:
    """The ``audit`` reply in a chat: one line per entry, newest first."""
    about = " ".join(part for part in (action, station) if part)
    if not entries:
        return f"No audit entries{f' for {about}' if about else ''}."
    head = f"The last {len(entries)} change(s){f' for {about}' if about else ''}, newest first:"
    lines = [head]
    for entry in entries:
        lines.append(f"- {entry.at:%Y-%m-%d %H:%M} UTC, {entry.actor}: {entry.action}: {entry.headline}")
    return "\n".join(lines)
