"""The duty roster: who watches the go-live channels and the ServiceNow queue, and when.

Model
    ``Engineer``: a person with a time zone, working hours ``work_start <= t < work_end`` on
    ``work_days`` (ISO weekdays: 1 = Monday ... 7 = Sunday) and maybe production access.
    ``RosterWeek``: for one rollout week (a Monday) a primary and a backup (at least one of them
    with production access), fallback days (a third engineer who covers single dates) and observers
    (new members who shadow). ``DutyRoster``: the engineers by key and the weeks.

Rules (decided here; the rest of the product relies on them)
    *Week boundary.* A roster week takes effect at Monday 00:00 on its **primary's** local clock and
    lasts until the next roster week takes effect (or seven local days if no week follows), so the
    hand-off happens at the start of the incoming primary's own Monday, with no gap and no overlap.
    *Fallback dates* are dates on the **fallback engineer's** own clock: "Dana covers Wednesday"
    means Dana's Wednesday, 00:00 to 24:00 in Dana's zone (inside a week that is in force).
    *Swaps.* A swap is a fact of the roster week, not a fallback: ``RosterWeek.swaps`` holds the
    dates on which the primary and the backup exchange roles, each date a whole calendar day on
    the week's **primary's** clock (the clock the week itself runs on). ``duty_at`` hands out the
    exchanged pair on such a day, so ``role_of``, ``pick_assignee``, escalations and hand-off
    notices all follow it; ``swap_day`` toggles a date (swapping again hands the day back). A
    fallback date given to the week's backup is how swaps were recorded before (``cover_day``):
    ``RosterWeek`` reads it as a swap of that date, so the fallback of a ``Duty`` is never its
    primary or backup.
    *Who picks up.* On a fallback date the fallback engineer covers for the pair and is asked
    first: ``pick_assignee`` tries fallback, then primary, then backup, taking the first who is
    working. On other dates it is primary, then backup. Observers are never picked.
    *Working* is judged on the engineer's local clock, so it follows DST; the start minute is
    working, the end minute is not. Nobody outside working hours is ever picked (see
    ``schedule.first_response`` for the first-response clock and the escalation target).
    *Identity.* Engineers are found by Entra object id or by email, both case-insensitively
    (``DutyRoster.engineer_by_aad_id``, ``engineer_by_email``); object ids are stored lower case.
    The identifiers' rules are in ``schedule.identity``.

All instants passed in must be timezone-aware. ``parse_roster_csv`` and ``export_roster_csv`` (the
roster CSV, see ``schedule.roster_csv`` and docs/ROSTER_CSV.md) are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeVar

from schedule.errors import InvalidScheduleValue
from schedule.identity import (
    aad_object_id_problem,
    email_problem,
    github_login_problem,
    normalize_aad_object_id,
    servicenow_user_problem,
    slack_user_id_problem,
)
from schedule.localtime import (
    is_iana_zone,
    local_date,
    local_instant,
    require_aware,
    wall_clock_reaches,
    week_monday,
    zone,
)

Role = Literal["primary", "backup", "fallback", "observer"]
MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})
PICKUP_HORIZON = timedelta(days=8)
_MIDNIGHT = time(0)

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable mapping, so frozen dataclasses holding one stay hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._items: dict[K, V] = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


@dataclass(frozen=True)
class Engineer:
    """A support engineer. ``work_days`` are ISO weekdays (1 = Monday ... 7 = Sunday)."""

    key: str
    name: str
    aad_object_id: str
    servicenow_user: str
    time_zone: str
    work_start: time
    work_end: time
    work_days: frozenset[int]
    production_access: bool
    email: str = ""
    github_login: str = ""
    slack_user_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "work_days", frozenset(self.work_days))
        object.__setattr__(self, "aad_object_id", normalize_aad_object_id(self.aad_object_id))
        if not self.key:
            raise InvalidScheduleValue("an engineer needs a key")
        # A bad identifier is refused here too, so it can never reach a query, a mention or a call.
        required = (
            (self.aad_object_id, aad_object_id_problem),
            (self.servicenow_user, servicenow_user_problem),
        )
        optional = (
            (self.email, email_problem),
            (self.github_login, github_login_problem),
            (self.slack_user_id, slack_user_id_problem),
        )
        problems = [problem for value, check in required if (problem := check(value))]
        problems += [problem for value, check in optional if value and (problem := check(value))]
        if problems:
            raise InvalidScheduleValue(f"engineer {self.key}: " + "; ".join(problems))
        if not is_iana_zone(self.time_zone):
            raise InvalidScheduleValue(f"{self.time_zone!r} is not an IANA time zone (engineer {self.key})")
        if not self.work_start < self.work_end:
            raise InvalidScheduleValue(f"engineer {self.key}: work_start must be before work_end")
        if not self.work_days <= frozenset(range(1, 8)):
            raise InvalidScheduleValue(f"engineer {self.key}: work_days must be ISO weekdays 1..7")


@dataclass(frozen=True)
class RosterWeek:
    """Who is on duty in the week starting ``week_start`` (a Monday); values are engineer keys.

    ``swaps`` are the dates (on the primary's clock) on which primary and backup exchange roles.
    A ``fallback`` date given to the backup is read as a swap of that date (the old record of a
    swap), so two weeks that mean the same compare equal.
    """

    week_start: date
    primary: str
    backup: str
    fallback: Mapping[date, str] = field(default_factory=FrozenMap)
    observers: tuple[str, ...] = ()
    swaps: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        fallback = dict(self.fallback)
        legacy_swaps = {day for day, key in fallback.items() if key == self.backup}
        for day in legacy_swaps:
            del fallback[day]
        object.__setattr__(self, "fallback", FrozenMap(sorted(fallback.items())))
        object.__setattr__(self, "observers", tuple(self.observers))
        object.__setattr__(self, "swaps", frozenset(self.swaps) | legacy_swaps)

    def is_swapped(self, day: date) -> bool:
        """True when primary and backup exchange roles on ``day`` (a date on the primary's clock)."""
        return day in self.swaps


@dataclass(frozen=True)
class DutyRoster:
    """All engineers (by key) and the roster weeks, validated together."""

    engineers: Mapping[str, Engineer]
    weeks: tuple[RosterWeek, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "engineers", FrozenMap(self.engineers))
        object.__setattr__(self, "weeks", tuple(sorted(self.weeks, key=lambda week: week.week_start)))
        problems = roster_problems(self)
        if problems:
            raise InvalidScheduleValue("; ".join(problems))

    @classmethod
    def of(cls, engineers: Iterable[Engineer], weeks: Iterable[RosterWeek] = ()) -> DutyRoster:
        return cls({engineer.key: engineer for engineer in engineers}, tuple(weeks))

    def week(self, week_start: date) -> RosterWeek | None:
        return next((week for week in self.weeks if week.week_start == week_start), None)

    def engineer_by_aad_id(self, aad_object_id: str) -> Engineer | None:
        """The engineer with this Entra object id, whatever its letter case (None if unknown)."""
        wanted = normalize_aad_object_id(aad_object_id or "")
        if not wanted:
            return None
        return next((e for e in self.engineers.values() if e.aad_object_id == wanted), None)

    def engineer_by_email(self, email: str) -> Engineer | None:
        """The engineer with this email address, whatever its letter case (None if unknown)."""
        wanted = (email or "").strip().lower()
        if not wanted:
            return None
        return next((e for e in self.engineers.values() if e.email.lower() == wanted), None)

    def by_aad_object_id(self, aad_object_id: str) -> Engineer | None:
        """The same as ``engineer_by_aad_id`` (the older name, kept for callers)."""
        return self.engineer_by_aad_id(aad_object_id)


def week_problems(week: RosterWeek, engineers: Mapping[str, Engineer]) -> list[str]:
    """What is wrong with one roster week (empty when it is fine)."""
    label = f"week {week.week_start.isoformat()}"
    problems: list[str] = []
    if week.week_start.weekday() != 0:
        problems.append(f"{label}: {week.week_start:%A} is not a Monday")
    for role, key in (("primary", week.primary), ("backup", week.backup)):
        if key not in engineers:
            problems.append(f"{label}: {role} {key!r} is not a known engineer")
    if week.primary == week.backup:
        problems.append(f"{label}: the primary and the backup must be two different engineers")
    elif week.primary in engineers and week.backup in engineers:
        if not (engineers[week.primary].production_access or engineers[week.backup].production_access):
            problems.append(
                f"{label}: neither the primary ({week.primary}) nor the backup ({week.backup}) "
                "has production access; at least one of them must"
            )
    last_day = week.week_start + timedelta(days=6)
    for day, key in week.fallback.items():
        if key not in engineers:
            problems.append(f"{label}: fallback {key!r} on {day.isoformat()} is not a known engineer")
        if not week.week_start <= day <= last_day:
            problems.append(f"{label}: fallback date {day.isoformat()} is outside the week")
        # (A fallback date of the backup was turned into a swap by RosterWeek.)
        if key == week.primary:
            problems.append(f"{label}: fallback {key} on {day.isoformat()} is already the primary")
    for day in sorted(week.swaps):
        if not week.week_start <= day <= last_day:
            problems.append(f"{label}: swap date {day.isoformat()} is outside the week")
    for key in week.observers:
        if key not in engineers:
            problems.append(f"{label}: observer {key!r} is not a known engineer")
        if key in (week.primary, week.backup):
            problems.append(f"{label}: observer {key} is already the primary or backup")
    if len(set(week.observers)) != len(week.observers):
        problems.append(f"{label}: an observer is listed twice")
    return problems


def unique_identifiers(engineer: Engineer) -> list[tuple[str, str]]:
    """(column, value) of each identifier that must belong to one engineer only, in lower case."""
    values = (
        ("aad_object_id", engineer.aad_object_id),
        ("email", engineer.email),
        ("servicenow_user", engineer.servicenow_user),
        ("github_login", engineer.github_login),
        ("slack_user_id", engineer.slack_user_id),
    )
    return [(label, value.lower()) for label, value in values if value]


def roster_problems(roster: DutyRoster) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for key, engineer in roster.engineers.items():
        if key != engineer.key:
            problems.append(f"engineer {engineer.key} is filed under the key {key!r}")
        # Each identifier finds at most one engineer, whatever its letter case.
        for label, value in unique_identifiers(engineer):
            if (label, value) in seen:
                problems.append(f"engineers {seen[label, value]} and {key} share the {label} {value}")
            seen.setdefault((label, value), key)
    starts = [week.week_start for week in roster.weeks]
    for week_start in sorted({s for s in starts if starts.count(s) > 1}):
        problems.append(f"week {week_start.isoformat()} is in the roster more than once")
    for week in roster.weeks:
        problems.extend(week_problems(week, roster.engineers))
    return problems


@dataclass(frozen=True)
class Duty:
    """Who is on duty at one instant. ``fallback`` is set only on a fallback date; on a swapped
    day ``primary`` and ``backup`` are already exchanged and ``swapped`` is True."""

    primary: Engineer | None
    backup: Engineer | None
    fallback: Engineer | None
    observers: tuple[Engineer, ...]
    week_start: date | None = None
    fallback_date: date | None = None
    swapped: bool = False

    @property
    def chain(self) -> tuple[Engineer, ...]:
        """The engineers in the order they are asked: fallback (on its date), primary, backup."""
        return tuple(e for e in (self.fallback, self.primary, self.backup) if e is not None)

    @property
    def who(self) -> tuple[str | None, str | None, str | None]:
        """(primary, backup, fallback) keys: what a hand-off notice is about."""
        return (_key(self.primary), _key(self.backup), _key(self.fallback))

    def role_of(self, engineer: Engineer) -> Role | None:
        holders: tuple[tuple[Role, Engineer | None], ...] = (
            ("primary", self.primary),
            ("backup", self.backup),
            ("fallback", self.fallback),
        )
        for role, holder in holders:
            if holder is not None and holder.key == engineer.key:
                return role
        if any(observer.key == engineer.key for observer in self.observers):
            return "observer"
        return None


NO_DUTY = Duty(None, None, None, ())


def _key(engineer: Engineer | None) -> str | None:
    return engineer.key if engineer is not None else None


def _takes_effect(roster: DutyRoster, week: RosterWeek) -> datetime:
    return local_instant(week.week_start, _MIDNIGHT, roster.engineers[week.primary].time_zone)


def week_clock(roster: DutyRoster, week: RosterWeek) -> str:
    """The time zone a roster week runs on (its primary's): week boundaries and swap dates."""
    return roster.engineers[week.primary].time_zone


def week_spans(roster: DutyRoster) -> list[tuple[datetime, datetime, RosterWeek]]:
    """Each roster week with the instants it takes effect and ends (see the week-boundary rule)."""
    spans: list[tuple[datetime, datetime, RosterWeek]] = []
    for index, week in enumerate(roster.weeks):
        start = _takes_effect(roster, week)
        following = roster.weeks[index + 1] if index + 1 < len(roster.weeks) else None
        if following is not None and following.week_start == week.week_start + timedelta(days=7):
            end = _takes_effect(roster, following)
        else:
            end = local_instant(
                week.week_start + timedelta(days=7), _MIDNIGHT, roster.engineers[week.primary].time_zone
            )
        spans.append((start, end, week))
    return spans


def week_at(roster: DutyRoster, at: datetime) -> RosterWeek | None:
    """The roster week in force at ``at``, if any."""
    require_aware(at)
    for start, end, week in week_spans(roster):
        if start <= at < end:
            return week
    return None


def duty_at(roster: DutyRoster, at: datetime) -> Duty:
    """Who is on duty at ``at`` (an empty ``Duty`` outside every roster week)."""
    week = week_at(roster, at)
    if week is None:
        return NO_DUTY
    engineers = roster.engineers
    fallback, fallback_date = None, None
    for day, key in week.fallback.items():
        if local_date(at, engineers[key].time_zone) == day:
            fallback, fallback_date = engineers[key], day
            break
    primary, backup = engineers[week.primary], engineers[week.backup]
    swapped = week.is_swapped(local_date(at, week_clock(roster, week)))
    if swapped:
        primary, backup = backup, primary
    return Duty(
        primary=primary,
        backup=backup,
        fallback=fallback,
        observers=tuple(engineers[key] for key in week.observers),
        week_start=week.week_start,
        fallback_date=fallback_date,
        swapped=swapped,
    )


def duty_day(roster: DutyRoster, at: datetime) -> date | None:
    """The date at ``at`` on the clock of the roster week in force (None outside every week):
    the day a ``swap`` sent at ``at`` is about."""
    week = week_at(roster, at)
    return None if week is None else local_date(at, week_clock(roster, week))


def is_working(engineer: Engineer, at: datetime) -> bool:
    """True when ``at`` is inside the engineer's working hours on one of their working days."""
    local = require_aware(at).astimezone(zone(engineer.time_zone))
    clock = local.time().replace(tzinfo=None)
    return local.isoweekday() in engineer.work_days and engineer.work_start <= clock < engineer.work_end


def pick_assignee(duty: Duty, at: datetime) -> Engineer | None:
    """The first working engineer of ``duty.chain`` (fallback, primary, backup), or None."""
    return next((engineer for engineer in duty.chain if is_working(engineer, at)), None)


def _shift_starts(
    engineer: Engineer, at: datetime, only_on: date | None
) -> Iterator[tuple[datetime, datetime]]:
    today = local_date(at, engineer.time_zone)
    for offset in range(-1, PICKUP_HORIZON.days + 2):
        day = today + timedelta(days=offset)
        if day.isoweekday() not in engineer.work_days or (only_on is not None and day != only_on):
            continue
        yield (
            wall_clock_reaches(day, engineer.work_start, engineer.time_zone),
            wall_clock_reaches(day, engineer.work_end, engineer.time_zone),
        )


def next_pickup(duty: Duty, at: datetime) -> datetime | None:
    """The first instant at or after ``at`` when an engineer of ``duty.chain`` is working.

    Returns ``at`` itself when someone is working now, and None when nobody starts within
    ``PICKUP_HORIZON`` (8 days). The fallback counts only on their fallback date. It looks at this
    duty's people only; ``next_roster_pickup`` also follows hand-offs to the next week.
    """
    require_aware(at)
    best: datetime | None = None
    for engineer in duty.chain:
        only_on = duty.fallback_date if engineer is duty.fallback else None
        for start, end in _shift_starts(engineer, at, only_on):
            if start <= at < end:
                return at
            if at < start <= at + PICKUP_HORIZON and (best is None or start < best):
                best = start
    return best


def next_roster_pickup(roster: DutyRoster, at: datetime) -> datetime | None:
    """Like ``next_pickup`` but the duty is looked up again at each candidate instant."""
    require_aware(at)
    candidates = {at}
    for engineer in roster.engineers.values():
        candidates.update(start for start, _ in _shift_starts(engineer, at, None))
    candidates.update(t for t, _, _ in duty_changes(roster, at, at + PICKUP_HORIZON))
    for candidate in sorted(c for c in candidates if at <= c <= at + PICKUP_HORIZON):
        if pick_assignee(duty_at(roster, candidate), candidate) is not None:
            return candidate
    return None


def role_of(roster: DutyRoster, aad_object_id: str, at: datetime) -> Role | None:
    """The role the engineer with this Entra object id has at ``at`` (None if off duty or unknown)."""
    engineer = roster.engineer_by_aad_id(aad_object_id)
    if engineer is None:
        return None
    return duty_at(roster, at).role_of(engineer)


def duty_changes(roster: DutyRoster, start: datetime, end: datetime) -> list[tuple[datetime, Duty, Duty]]:
    """Hand-offs in ``[start, end)``: (instant, duty before, duty after), oldest first.

    Only changes of primary, backup or fallback count (week boundaries, the start and end of a
    fallback date or of a swapped day); a change of observers alone is not a hand-off.
    """
    require_aware(start, "start")
    require_aware(end, "end")
    moments: set[datetime] = set()
    for week_start, week_end, week in week_spans(roster):
        moments.update((week_start, week_end))
        days = [(day, roster.engineers[key].time_zone) for day, key in week.fallback.items()]
        days += [(day, week_clock(roster, week)) for day in week.swaps]
        for day, tz in days:
            moments.add(local_instant(day, _MIDNIGHT, tz))
            moments.add(local_instant(day + timedelta(days=1), _MIDNIGHT, tz))
    changes = []
    for moment in sorted(m for m in moments if start <= m < end):
        before, after = duty_at(roster, moment - timedelta(microseconds=1)), duty_at(roster, moment)
        if before.who != after.who:
            changes.append((moment, before, after))
    return changes


def parse_roster_csv(text: str | bytes) -> DutyRoster:
    """The roster in a roster CSV, or ``RosterImportError`` listing every bad row."""
    from schedule.roster_csv import parse_roster_csv as parse

    return parse(text)


def export_roster_csv(roster: DutyRoster) -> str:
    """The roster as roster CSV."""
    from schedule.roster_csv import export_roster_csv as export

    return export(roster)


def cover_day(roster: DutyRoster, engineer_key: str, day: date) -> DutyRoster:
    """The roster with ``engineer_key`` covering ``day`` as the fallback (first pick that day), in
    the roster week that contains the day. Raises ``InvalidScheduleValue`` when no week does or the
    engineer is unknown.

    Naming the week's backup records a swap of that day (see ``RosterWeek``); naming the primary
    hands the day back to them (no fallback, no swap). Use ``swap_day`` for a swap.
    """
    if engineer_key not in roster.engineers:
        raise InvalidScheduleValue(f"unknown engineer {engineer_key!r}")
    monday = week_monday(day)
    week = roster.week(monday)
    if week is None:
        raise InvalidScheduleValue(f"no roster week starts on {monday.isoformat()}")
    fallback = dict(week.fallback)
    swaps = set(week.swaps)
    if engineer_key == week.primary:
        fallback.pop(day, None)  # handing the day back to the primary
        swaps.discard(day)
    else:
        fallback[day] = engineer_key
    return _with_week(roster, replace(week, fallback=FrozenMap(fallback), swaps=frozenset(swaps)))


def swap_day(roster: DutyRoster, day: date, at: datetime) -> DutyRoster:
    """The roster with the swap of ``day`` toggled: primary and backup exchange roles for that
    calendar day (on the week's primary's clock), and swapping again hands it back.

    The week is the one in force at ``at`` when ``day`` falls in it, else the week whose Monday
    begins ``day``'s week. Raises ``InvalidScheduleValue`` when no roster week holds ``day`` or the
    day is already over at ``at`` (a swap never rewrites who was on duty).
    """
    require_aware(at)
    week = week_at(roster, at)
    if week is None or not week.week_start <= day <= week.week_start + timedelta(days=6):
        week = roster.week(week_monday(day))
    if week is None:
        raise InvalidScheduleValue(f"no roster week holds {day.isoformat()}, so there is nothing to swap")
    tz = week_clock(roster, week)
    if at >= local_instant(day + timedelta(days=1), _MIDNIGHT, tz):
        raise InvalidScheduleValue(f"{day.isoformat()} is already over ({tz}); a past day cannot be swapped")
    return _with_week(roster, replace(week, swaps=week.swaps ^ {day}))


def swap_today(roster: DutyRoster, at: datetime) -> DutyRoster:
    """``swap_day`` for the day in force at ``at`` (what the ``swap`` command means)."""
    day = duty_day(roster, at)
    if day is None:
        raise InvalidScheduleValue("no roster week is in force, so there is nothing to swap")
    return swap_day(roster, day, at)


def _with_week(roster: DutyRoster, new: RosterWeek) -> DutyRoster:
    weeks = tuple(new if week.week_start == new.week_start else week for week in roster.weeks)
    return DutyRoster(engineers=roster.engineers, weeks=weeks)
