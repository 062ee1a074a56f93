"""Who is on call when: schedule layers rendered into shifts, and the on-calls PagerDuty derives.

Pure functions of the account and a time window (aware datetimes), so the API handlers and the
tests share one implementation. Shifts keep their real boundaries here; clipping to a requested
window (``rendered_schedule_entries`` without ``overflow=true``) is the caller's choice, and
``GET /oncalls`` reports whole shifts that overlap the window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from emulators.pagerduty.config import (
    EscalationPolicy,
    OnCallEntry,
    PagerDutyEmulatorConfig,
    PagerDutySchedule,
    ScheduleLayer,
    longest_turn,
)

__all__ = [
    "Shift",
    "clip",
    "coverage_percentage",
    "derived_oncalls",
    "final_shifts",
    "layer_shifts",
    "overlapping",
]


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    user_id: str


def layer_shifts(layer: ScheduleLayer, since: datetime, until: datetime) -> list[Shift]:
    """The layer's turns that overlap ``since .. until``, with their real boundaries."""
    low = max(since, layer.start)
    high = until if layer.end is None else min(until, layer.end)
    if low >= high or not layer.users:
        return []
    turn = timedelta(seconds=layer.rotation_turn_length_seconds)
    index = math.floor((low - layer.rotation_virtual_start) / turn)
    shifts: list[Shift] = []
    while True:
        start = layer.rotation_virtual_start + index * turn
        if start >= high:
            return shifts
        end = start + turn
        shifts.append(
            Shift(
                max(start, layer.start),
                end if layer.end is None else min(end, layer.end),
                layer.users[index % len(layer.users)],
            )
        )
        index += 1


def final_shifts(schedule: PagerDutySchedule, since: datetime, until: datetime) -> list[Shift]:
    """The effective rota of ``since .. until``: a later layer wins where layers overlap.

    Boundaries inside the window are exact; the first and last shift are cut at the window (call
    with a wider window to learn where they really start and end).
    """
    per_layer = [layer_shifts(layer, since, until) for layer in schedule.layers]
    points = sorted({since, until} | {t for shifts in per_layer for s in shifts for t in (s.start, s.end)})
    points = [p for p in points if since <= p <= until]
    pieces: list[Shift] = []
    for low, high in itertools.pairwise(points):
        owner = None
        for shifts in reversed(per_layer):
            owner = next((s.user_id for s in shifts if s.start <= low and s.end >= high), None)
            if owner is not None:
                break
        if owner is None:
            continue
        if pieces and pieces[-1].user_id == owner and pieces[-1].end == low:
            pieces[-1] = Shift(pieces[-1].start, high, owner)
        else:
            pieces.append(Shift(low, high, owner))
    return pieces


def clip(shifts: Iterable[Shift], since: datetime, until: datetime) -> list[Shift]:
    return [Shift(max(s.start, since), min(s.end, until), s.user_id) for s in shifts]


def coverage_percentage(shifts: Sequence[Shift], since: datetime, until: datetime) -> float:
    window = (until - since).total_seconds()
    if window <= 0:
        return 0.0
    covered = sum((min(s.end, until) - max(s.start, since)).total_seconds() for s in shifts)
    return round(100.0 * max(covered, 0.0) / window, 1)


def overlapping(entry: OnCallEntry, since: datetime, until: datetime) -> bool:
    """Whether an on-call overlaps the window (a zero-length window asks "who is on call at t")."""
    if since == until:
        return (entry.start is None or entry.start <= since) and (entry.end is None or entry.end > since)
    return (entry.start is None or entry.start < until) and (entry.end is None or entry.end > since)


def _policy_oncalls(
    config: PagerDutyEmulatorConfig, policy: EscalationPolicy, since: datetime, until: datetime
) -> list[OnCallEntry]:
    schedules = {s.id: s for s in config.schedules}
    # Widen the window by one turn so shifts that straddle its edges keep their real boundaries.
    margin = longest_turn(config)
    entries: list[OnCallEntry] = []
    for level, targets in enumerate(policy.levels, start=1):
        for target in targets:
            schedule = schedules.get(target)
            if schedule is None:
                entries.append(OnCallEntry(target, policy.id, level, None, None, None))
                continue
            for shift in final_shifts(schedule, since - margin, until + margin):
                entries.append(
                    OnCallEntry(shift.user_id, policy.id, level, schedule.id, shift.start, shift.end)
                )
    return entries


def derived_oncalls(config: PagerDutyEmulatorConfig, since: datetime, until: datetime) -> list[OnCallEntry]:
    """The on-calls PagerDuty computes from the escalation policies and schedules."""
    entries = [e for p in config.escalation_policies for e in _policy_oncalls(config, p, since, until)]
    return [e for e in entries if overlapping(e, since, until)]
