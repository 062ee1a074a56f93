"""What the plan implies for a stretch of time: the channel actions due in ``[start, end)``.

This is the data behind ``golive schedule preview``; its JSON form (``PlannedAction.as_json``) is
the public Preview JSON of docs/CONTRACTS.md section 6: ``{"at", "action", "station", "name"}`` with ``at``
as ISO 8601 in UTC (``+00:00``), so the text order of ``at`` is also its time order.
Pulled sites have no actions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schedule.localtime import require_aware
from schedule.plan import RolloutPlan, WindowSettings, window_for

_KIND_ORDER = {"retire": 0, "open": 1}


@dataclass(frozen=True)
class PlannedAction:
    """A channel action the plan schedules at instant ``at`` (UTC)."""

    at: datetime
    action: str
    station: str
    name: str

    def as_json(self) -> dict[str, str]:
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "action": self.action,
            "station": self.station,
            "name": self.name,
        }


def preview(
    plan: RolloutPlan, settings: WindowSettings | None, start: datetime, end: datetime
) -> list[PlannedAction]:
    """Every open and retire with ``start <= at < end``, sorted by ``at`` (then station)."""
    require_aware(start, "start")
    require_aware(end, "end")
    actions: list[PlannedAction] = []
    for entry in plan.active():
        window = window_for(entry, settings)
        for kind, at in (("open", window.opens_at), ("retire", window.retires_at)):
            if start <= at < end:
                actions.append(PlannedAction(at, kind, entry.station, entry.name))
    actions.sort(key=lambda a: (a.at, a.station, _KIND_ORDER.get(a.action, 9)))
    return actions


def preview_json(actions: Sequence[PlannedAction], indent: int | None = 2) -> str:
    """The Preview JSON text for ``actions`` (``[]`` when there are none)."""
    return json.dumps([action.as_json() for action in actions], indent=indent, ensure_ascii=False)
