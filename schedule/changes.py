"""How a plan changes: merging or replacing it with an imported file, and what changed, site by site.

Two ways to bring a rollout file into the plan (docs/CONTRACTS.md section 2, ``schedule import``):

``merge_plan`` (the default)
    Sites in the file are added or updated (name, time zone, week, go-live date); a pulled site
    that reappears is put back. Sites not in the file stay exactly as they are. A merge never pulls
    a site, so a file with the two rows of a new week adds two sites and touches nothing else.
``replace_plan`` (``--replace``)
    The plan becomes exactly the file: sites not in it are marked pulled, never deleted, so their
    channels can be cancelled and the audit trail can say what happened. Before a replace, callers
    ask ``schedule.impact.open_sites_pulled`` and refuse (unless forced) when it names any site.

``plan_changes(current, new)`` lists what differs, one ``PlanChange`` per kind of change of a station:

=========  ===================================================================================
kind       when
=========  ===================================================================================
add        the station is new (``add 528A7 Palo Alto (week 2022-06-06, go-live 2022-06-08)``)
restore    a pulled station is planned again (its week and go-live date are on the same line)
pull       a planned station is pulled, or is missing from the new plan (saving a plan marks
           missing stations pulled)
move       the week or the go-live date changed (``move 508 Atlanta: week 2022-05-02 -> 2022-05-09``)
update     the name or the time zone changed
=========  ===================================================================================

The list is sorted by week (the new one when there is one), go-live date, station and kind, so the
same two plans always give the same lines. Everything here is pure and never raises on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from schedule.plan import PlannedSite, RolloutPlan

ChangeKind = Literal["add", "restore", "pull", "move", "update"]
ChangedField = Literal["week_start", "go_live_date", "name", "time_zone", "pulled"]

_KIND_ORDER: dict[str, int] = {"pull": 0, "restore": 1, "add": 2, "move": 3, "update": 4}
_FIELD_WORDS: dict[str, str] = {
    "week_start": "week",
    "go_live_date": "go-live",
    "name": "name",
    "time_zone": "time zone",
    "pulled": "pulled",
}


@dataclass(frozen=True)
class FieldChange:
    """One field of a planned site, before and after (``""`` where there was or is no value)."""

    field: ChangedField
    old: str
    new: str

    def describe(self) -> str:
        if self.field == "name":
            return f'name "{self.old}" -> "{self.new}"'
        return f"{_FIELD_WORDS[self.field]} {self.old} -> {self.new}"


@dataclass(frozen=True)
class PlanChange:
    """One change to one station of the plan; ``before`` / ``after`` are its entries (None when
    the station is not in that plan), ``detail`` the fields that changed."""

    kind: ChangeKind
    station: str
    name: str
    before: PlannedSite | None
    after: PlannedSite | None
    detail: tuple[FieldChange, ...] = ()

    def field(self, name: ChangedField) -> FieldChange | None:
        return next((change for change in self.detail if change.field == name), None)

    def describe(self) -> str:
        """One line for people: ``move 508 Atlanta: week 2022-05-02 -> 2022-05-09``."""
        head = f"{self.kind} {self.station} {self.name}"
        if self.kind in ("add", "restore") and self.after is not None:
            extra = ", pulled" if self.after.pulled else ""
            return f"{head} (week {self.after.week_start}, go-live {self.after.go_live_date}{extra})"
        if self.kind == "pull":
            entry = self.before or self.after
            return f"{head} (week {entry.week_start})" if entry is not None else head
        if self.kind == "move":
            return f"{head}: " + ", ".join(change.describe() for change in self._shown_moves())
        return f"{head}: " + ", ".join(change.describe() for change in self.detail)

    def _shown_moves(self) -> list[FieldChange]:
        # The go-live date is worth a mention only when it is not simply the Monday of its week.
        week, go_live = self.field("week_start"), self.field("go_live_date")
        shown = [week] if week is not None else []
        if go_live is not None and (week is None or not _mondays_of_their_weeks(self.before, self.after)):
            shown.append(go_live)
        return shown

    def as_json(self) -> dict[str, object]:
        """The change as plain JSON values (for audit details and ``--format json``)."""
        return {
            "kind": self.kind,
            "station": self.station,
            "name": self.name,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.detail],
            "text": self.describe(),
        }


def _mondays_of_their_weeks(before: PlannedSite | None, after: PlannedSite | None) -> bool:
    return all(entry is None or entry.go_live_date == entry.week_start for entry in (before, after))


def merge_plan(current: RolloutPlan, incoming: RolloutPlan) -> RolloutPlan:
    """``current`` with every site of ``incoming`` added or updated (and planned, not pulled);
    stations ``incoming`` does not name stay exactly as they are."""
    entries = current.by_station()
    for entry in incoming.entries:
        entries[entry.station] = replace(entry, pulled=False)
    return RolloutPlan(tuple(entries.values()))


def replace_plan(current: RolloutPlan, incoming: RolloutPlan) -> RolloutPlan:
    """Exactly the sites of ``incoming`` (planned), plus every other station of ``current`` marked
    pulled (a site is never deleted, so its channel can still be cancelled)."""
    kept = {entry.station: replace(entry, pulled=False) for entry in incoming.entries}
    missing = [
        replace(entry, pulled=True) for station, entry in current.by_station().items() if station not in kept
    ]
    return RolloutPlan((*kept.values(), *missing))


def _text(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _fields(was: PlannedSite, now: PlannedSite, names: tuple[ChangedField, ...]) -> tuple[FieldChange, ...]:
    values: dict[str, tuple[date | str, date | str]] = {
        "week_start": (was.week_start, now.week_start),
        "go_live_date": (was.go_live_date, now.go_live_date),
        "name": (was.name, now.name),
        "time_zone": (was.time_zone, now.time_zone),
    }
    return tuple(
        FieldChange(name, _text(values[name][0]), _text(values[name][1]))
        for name in names
        if values[name][0] != values[name][1]
    )


def _station_changes(station: str, was: PlannedSite | None, now: PlannedSite | None) -> list[PlanChange]:
    if was == now:
        return []
    if was is None:
        assert now is not None
        added = (
            FieldChange("week_start", "", now.week_start.isoformat()),
            FieldChange("go_live_date", "", now.go_live_date.isoformat()),
            FieldChange("time_zone", "", now.time_zone),
        ) + ((FieldChange("pulled", "", "yes"),) if now.pulled else ())
        return [PlanChange("add", station, now.name, None, now, added)]
    if now is None:
        # Saving a plan marks a missing station pulled: say so, unless it already was.
        if was.pulled:
            return []
        gone = (FieldChange("pulled", "no", "yes"),)
        return [PlanChange("pull", station, was.name, was, None, gone)]

    changes: list[PlanChange] = []
    moves = _fields(was, now, ("week_start", "go_live_date"))
    updates = _fields(was, now, ("name", "time_zone"))
    if was.pulled and not now.pulled:
        changes.append(
            PlanChange("restore", station, now.name, was, now, (*moves, FieldChange("pulled", "yes", "no")))
        )
        moves = ()
    elif now.pulled and not was.pulled:
        changes.append(PlanChange("pull", station, now.name, was, now, (FieldChange("pulled", "no", "yes"),)))
    if moves:
        changes.append(PlanChange("move", station, now.name, was, now, moves))
    if updates:
        changes.append(PlanChange("update", station, now.name, was, now, updates))
    return changes


def _change_order(change: PlanChange) -> tuple[date, date, str, int]:
    entry = change.after or change.before
    assert entry is not None
    return (entry.week_start, entry.go_live_date, change.station, _KIND_ORDER[change.kind])


def plan_changes(current: RolloutPlan, new: RolloutPlan) -> list[PlanChange]:
    """What changes from ``current`` to ``new``, one ``PlanChange`` per kind of change of a station."""
    before, after = current.by_station(), new.by_station()
    changes: list[PlanChange] = []
    for station in before.keys() | after.keys():
        changes += _station_changes(station, before.get(station), after.get(station))
    return sorted(changes, key=_change_order)


def describe_changes(current: RolloutPlan, new: RolloutPlan) -> list[str]:
    """``plan_changes`` as lines for people (``--dry-run``, replies, the audit trail)."""
    return [change.describe() for change in plan_changes(current, new)]
