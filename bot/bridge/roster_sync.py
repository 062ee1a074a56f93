"""Duty from an external rota (PagerDuty): the on-call entries of the primary and the backup
schedules become the roster weeks they cover, all or nothing.

Rules
    *Window.* By default the current week and the 3 after it (weeks are Mondays; a week's span is
    Monday 00:00 UTC to the next Monday); ``--since/--until`` name another window, at most 90 days
    (PagerDuty lists on-calls up to three months at a time).
    *Who covers a week.* For each schedule, the person on call for the longest time within the
    week's span (a daytime layer's shifts add up); ties go to the earliest shift. A week whose
    primary or backup schedule has nobody on call is left as it is, and the sync says so.
    *People* are matched to roster engineers by email, whatever its letter case. Anybody on call in
    the window whom the roster does not know is named, and then nothing is applied: a half-applied
    rota would page the wrong person. The same holds for a week the roster rules refuse (the same
    person twice, nobody with production access).
    *What a sync keeps.* A week it changes keeps its swaps, fallback dates and observers
    (``dataclasses.replace``), except a fallback date or an observer who is now the week's primary
    or backup. Weeks outside the window, and the engineers, are never touched.

Every applied sync that changes something is audited as ``roster.sync``. Each sync that is not a
dry run records its outcome in the ``roster_sync`` document (source, last success, last failure and
its reason), which the dashboard and ``/metrics`` read. The leader runs :meth:`RosterSync.tick`
hourly; ``golive roster sync --from pagerduty`` runs :meth:`RosterSync.run`.

Errors: a ``PortError`` from the source ends the sync with nothing applied and its reason recorded
(``SyncResult.error``); :class:`SyncWindowError` for a window that cannot be synced.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import records
from bot.clock import Clock
from bot.ports import OnCallEntry, PortError, RosterSource
from bot.storage.store import Store
from schedule.errors import InvalidScheduleValue
from schedule.localtime import week_monday
from schedule.roster import DutyRoster, Engineer, FrozenMap, RosterWeek, export_roster_csv, week_problems

log = logging.getLogger(__name__)

__all__ = [
    "ROSTER_SYNC_DOCUMENT",
    "RosterSync",
    "SyncPlan",
    "SyncResult",
    "SyncStatus",
    "SyncWindow",
    "SyncWindowError",
    "default_window",
    "plan_sync",
    "window_between",
]

ROSTER_SYNC_DOCUMENT = "roster_sync"
WEEKS_AFTER = 3
MAX_WINDOW = timedelta(days=90)
ROLES = ("primary", "backup")


class SyncWindowError(ValueError):
    """The window asked for cannot be synced (empty, reversed or longer than 90 days)."""


@dataclass(frozen=True)
class SyncWindow:
    """The roster weeks (Mondays) a sync covers."""

    weeks: tuple[date, ...]

    @property
    def since(self) -> datetime:
        return datetime.combine(self.weeks[0], time(0), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.weeks[-1] + timedelta(days=7), time(0), UTC)

    def span(self, week: date) -> tuple[datetime, datetime]:
        start = datetime.combine(week, time(0), UTC)
        return start, start + timedelta(days=7)


def default_window(now: datetime) -> SyncWindow:
    """The current week (on the UTC calendar) and the 3 after it."""
    monday = week_monday(now.astimezone(UTC).date())
    return SyncWindow(tuple(monday + timedelta(weeks=n) for n in range(WEEKS_AFTER + 1)))


def window_between(since: datetime, until: datetime) -> SyncWindow:
    """Every week that overlaps ``[since, until)``."""
    if until <= since:
        raise SyncWindowError("--until must be after --since")
    if until - since > MAX_WINDOW:
        raise SyncWindowError(
            "a sync covers at most 90 days (PagerDuty lists on-calls three months at a time)"
        )
    monday = week_monday(since.astimezone(UTC).date())
    weeks = []
    while datetime.combine(monday, time(0), UTC) < until:
        weeks.append(monday)
        monday += timedelta(weeks=1)
    return SyncWindow(tuple(weeks))


@dataclass(frozen=True)
class SyncPlan:
    """What a sync would do: the roster to save (None when nothing may be applied), the changes,
    the problems that stop it, and notes on weeks it leaves as they are."""

    roster: DutyRoster | None
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _who(entry: OnCallEntry) -> str:
    return entry.email.strip().lower() or f"name:{entry.name}"


def _covering(entries: Sequence[OnCallEntry], start: datetime, end: datetime) -> OnCallEntry | None:
    """The person on call longest within ``[start, end)`` (their earliest shift stands for them)."""
    time_on: dict[str, timedelta] = defaultdict(timedelta)
    first: dict[str, OnCallEntry] = {}
    for entry in sorted(set(entries), key=lambda e: (e.start, e.end, _who(e))):
        overlap = min(entry.end, end) - max(entry.start, start)
        if overlap <= timedelta(0):
            continue
        time_on[_who(entry)] += overlap
        first.setdefault(_who(entry), entry)
    if not time_on:
        return None
    best = max(time_on, key=lambda who: (time_on[who], -first[who].start.timestamp()))
    return first[best]


def _unknown_people(
    roster: DutyRoster, entries: Sequence[OnCallEntry], schedules: tuple[str, str]
) -> list[str]:
    seen: dict[str, tuple[OnCallEntry, set[str]]] = {}
    for entry in entries:
        if entry.email and roster.engineer_by_email(entry.email) is not None:
            continue
        role = ROLES[schedules.index(entry.schedule_id)] if entry.schedule_id in schedules else "other"
        seen.setdefault(_who(entry), (entry, set()))[1].add(f"{role} schedule {entry.schedule_id}")
    problems = []
    for entry, where in sorted(seen.values(), key=lambda item: _who(item[0])):
        place = ", ".join(sorted(where))
        if entry.email:
            problems.append(
                f"{entry.name} <{entry.email}> is on call ({place}) but no roster engineer has that email"
            )
        else:
            problems.append(f"{entry.name} is on call ({place}) but has no email in the rota")
    return problems


def plan_sync(
    roster: DutyRoster, entries: Sequence[OnCallEntry], window: SyncWindow, schedules: tuple[str, str]
) -> SyncPlan:
    """The roster after applying ``entries`` to ``window`` (pure: the rules are in the module doc)."""
    problems = _unknown_people(roster, entries, schedules)
    by_schedule = {schedule: [e for e in entries if e.schedule_id == schedule] for schedule in schedules}
    weeks = {week.week_start: week for week in roster.weeks}
    changes: list[str] = []
    notes: list[str] = []
    for monday in window.weeks:
        label = f"week {monday.isoformat()}"
        start, end = window.span(monday)
        picks = {
            role: _covering(by_schedule[s], start, end) for role, s in zip(ROLES, schedules, strict=True)
        }
        missing = [
            f"{role} schedule {s}" for (role, s) in zip(ROLES, schedules, strict=True) if picks[role] is None
        ]
        if missing:
            notes.append(f"{label}: nobody is on call in the {' or '.join(missing)}; left as it is")
            continue
        engineers = {role: _engineer(roster, entry) for role, entry in picks.items()}
        if None in engineers.values():
            continue  # an unknown person: already a problem
        primary, backup = (engineers[role] for role in ROLES)
        assert primary is not None and backup is not None
        old = weeks.get(monday)
        new, dropped = _week(old, monday, primary.key, backup.key)
        if old == new:
            continue
        week_errors = week_problems(new, roster.engineers)
        if week_errors:
            problems.extend(week_errors)
            continue
        weeks[monday] = new
        changes.append(_change(label, old, new, roster) + "".join(f"; {note}" for note in dropped))
    if problems:
        return SyncPlan(None, tuple(changes), tuple(problems), tuple(notes))
    try:
        synced = DutyRoster(engineers=roster.engineers, weeks=tuple(weeks.values()))
    except InvalidScheduleValue as error:
        return SyncPlan(None, tuple(changes), (str(error),), tuple(notes))
    return SyncPlan(synced, tuple(changes), (), tuple(notes))


def _engineer(roster: DutyRoster, entry: OnCallEntry | None) -> Engineer | None:
    return None if entry is None or not entry.email else roster.engineer_by_email(entry.email)


def _week(old: RosterWeek | None, monday: date, primary: str, backup: str) -> tuple[RosterWeek, list[str]]:
    """The week with the synced pair; what it had to let go of (a fallback or an observer who now
    holds the week)."""
    if old is None:
        return RosterWeek(monday, primary, backup), []
    pair = {primary, backup}
    dropped = [
        f"fallback {key} on {day.isoformat()} dropped" for day, key in old.fallback.items() if key in pair
    ]
    dropped += [f"observer {key} dropped" for key in old.observers if key in pair]
    week = replace(
        old,
        primary=primary,
        backup=backup,
        fallback=FrozenMap((day, key) for day, key in old.fallback.items() if key not in pair),
        observers=tuple(key for key in old.observers if key not in pair),
    )
    return week, dropped


def _change(label: str, old: RosterWeek | None, new: RosterWeek, roster: DutyRoster) -> str:
    def name(key: str) -> str:
        return roster.engineers[key].name

    if old is None:
        return f"{label}: added, primary {name(new.primary)}, backup {name(new.backup)}"
    parts = []
    for role in ROLES:
        was, now = getattr(old, role), getattr(new, role)
        parts.append(
            f"{role} {name(was)} -> {name(now)}" if was != now else f"{role} {name(now)} (unchanged)"
        )
    return f"{label}: " + ", ".join(parts)


@dataclass(frozen=True)
class SyncResult:
    window: SyncWindow
    dry_run: bool
    applied: bool = False
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def reason(self) -> str:
        """Why the sync applied nothing (empty when it is ok)."""
        if self.error is not None:
            return self.error
        if not self.problems:
            return ""
        return f"{len(self.problems)} problem(s), nothing applied: " + "; ".join(self.problems)

    def lines(self) -> list[str]:
        """What ``golive roster sync`` prints."""
        first, last = self.window.weeks[0], self.window.weeks[-1]
        head = f"Roster sync for the weeks {first.isoformat()} to {last.isoformat()}"
        if not self.ok:
            lines = [f"{head}: nothing was changed."]
            lines += [f"  {self.error}"] if self.error else [f"  {problem}" for problem in self.problems]
            return lines
        verb = "would change" if self.dry_run else "changed"
        lines = [f"{head}{' (dry run, nothing was changed)' if self.dry_run else ''}:"]
        if self.changes:
            lines.append(f"{len(self.changes)} week(s) {verb}:")
            lines += [f"  {change}" for change in self.changes]
        else:
            lines.append("No changes to the stored roster.")
        lines += [f"  note: {note}" for note in self.notes]
        return lines


class RosterSync:
    """Applies the external rota's on-calls to the stored roster."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        source: RosterSource,
        schedules: tuple[str, str],
        *,
        source_name: str = "pagerduty",
    ) -> None:
        self._store = store
        self._clock = clock
        self._source = source
        self._schedules = schedules
        self._source_name = source_name

    async def run(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        dry_run: bool = False,
        actor: str = "roster-sync",
    ) -> SyncResult:
        now = self._clock.now()
        if since is None and until is None:
            window = default_window(now)
        else:
            window = window_between(since or now, until or (since or now) + timedelta(weeks=WEEKS_AFTER + 1))
        try:
            entries = await self._source.on_call(window.since, window.until)
        except PortError as error:
            result = SyncResult(window, dry_run, error=str(error))
            if not dry_run:
                async with self._store.write() as connection:
                    await self._record(connection, now, result)
            log.warning("roster sync from %s failed: %s", self._source_name, type(error).__name__)
            return result
        async with self._store.write() as connection:
            roster = await records.load_roster(self._store, connection)
            if roster is None:
                plan = SyncPlan(None, problems=("no roster is loaded yet: import its engineers first",))
            else:
                plan = plan_sync(roster, entries, window, self._schedules)
            applied = plan.roster is not None and bool(plan.changes) and not dry_run
            if applied and plan.roster is not None:
                await records.save_roster_csv(self._store, connection, export_roster_csv(plan.roster), now)
                detail = f"from {self._source_name} ({', '.join(self._schedules)}): " + "\n".join(
                    plan.changes
                )
                await records.audit(connection, now, actor, "roster.sync", detail)
            result = SyncResult(window, dry_run, applied, plan.changes, plan.problems, plan.notes)
            if not dry_run:
                await self._record(connection, now, result)
        log.info(
            "roster sync from %s: %d change(s), %d problem(s)%s",
            self._source_name,
            len(result.changes),
            len(result.problems),
            " (dry run)" if dry_run else "",
        )
        return result

    async def tick(self) -> None:
        """The leader's hourly sync (its outcome is in the status document, never raised)."""
        await self.run(actor="roster-sync (hourly)")

    async def _record(self, connection: AsyncConnection, now: datetime, result: SyncResult) -> None:
        status = dict(await self._store.get_document(connection, ROSTER_SYNC_DOCUMENT) or {})
        status.update(
            source=self._source_name, schedules=list(self._schedules), last_attempt_at=now.isoformat()
        )
        if result.ok:
            status.update(last_success_at=now.isoformat(), last_changes=len(result.changes), failing=False)
        else:
            status.update(last_failure_at=now.isoformat(), last_failure=result.reason[:500], failing=True)
        await self._store.put_document(connection, ROSTER_SYNC_DOCUMENT, status, now)


@dataclass(frozen=True)
class SyncStatus:
    """The ``roster_sync`` document as the dashboard and ``/metrics`` read it."""

    source: str
    schedules: tuple[str, ...] = ()
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure: str = ""
    failing: bool = False
    last_changes: int = 0

    @classmethod
    def from_document(cls, document: Any) -> SyncStatus | None:
        if not isinstance(document, dict) or not document.get("source"):
            return None

        def instant(key: str) -> datetime | None:
            value = document.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            source=str(document["source"]),
            schedules=tuple(str(s) for s in document.get("schedules") or ()),
            last_success_at=instant("last_success_at"),
            last_failure_at=instant("last_failure_at"),
            last_failure=str(document.get("last_failure") or ""),
            failing=bool(document.get("failing")),
            last_changes=int(document.get("last_changes") or 0),
        )
