"""What a proposed plan change would do to the go-live channels, told before it is made.

``channel_impact`` answers with the reconciler itself (``schedule.reconciler.reconcile``), run on
the current plan and on the proposed one with the same stored channel states and the same ``now``:
the actions the proposed plan adds are what the lifecycle will really do at its next tick because
of the change (an action already due under the current plan is not the change's doing). On top of
those, a channel that stays planned or open but whose go-live window moves is reported as ``move``
(an open channel stays open and retires at the end of the new window; see the reconciler's rule 3).

=========  ==========================================================================
kind       meaning
=========  ==========================================================================
open       a channel is created (or unarchived) now
retire     an open channel retires now (its new window is already over)
cancel     a planned or open channel is cancelled (an open one is archived)
rename     an open channel is renamed
move       a planned or open channel's window changes; nothing happens to it now
=========  ==========================================================================

``open_sites_pulled`` names the sites whose channel is open and that the proposed plan would pull:
``golive schedule import --replace`` refuses them without ``--force``, and every other edit
(``schedule.edits.pull_site`` included) can be checked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from schedule.localtime import zone
from schedule.plan import GoLiveWindow, RolloutPlan, Site, WindowSettings, window_for
from schedule.reconciler import (
    DEFAULT_NAME_TEMPLATE,
    ChannelAction,
    ChannelState,
    ChannelStatus,
    reconcile,
)

ImpactKind = Literal["open", "retire", "cancel", "rename", "move"]
_KIND_ORDER: dict[str, int] = {"cancel": 0, "retire": 1, "open": 2, "rename": 3, "move": 4}
_LIVE: tuple[ChannelStatus, ...] = ("planned", "open")


@dataclass(frozen=True)
class ChannelImpact:
    """One go-live channel a proposed plan change affects.

    ``status`` is the channel's stored status now (``planned`` when none is stored);
    ``window_before`` / ``window_after`` are its go-live windows under the current and the
    proposed plan (None where the site is pulled or absent); ``action`` is the reconciler's action
    for it (None for ``move``).
    """

    kind: ImpactKind
    station: str
    name: str
    status: ChannelStatus
    channel_id: str | None
    window_before: GoLiveWindow | None
    window_after: GoLiveWindow | None
    action: ChannelAction | None
    reason: str

    @property
    def closes_a_channel(self) -> bool:
        """True when an existing channel is archived (a cancel of a never-opened one is not)."""
        return self.kind == "retire" or (self.kind == "cancel" and self.status == "open")

    def describe(self) -> str:
        """One line for people: ``cancel 508 Atlanta: 508 Atlanta was pulled from the rollout``."""
        head = " ".join(part for part in (self.kind, self.station, self.name) if part)
        return f"{head}: {self.reason}"


def _when(at: datetime, time_zone: str) -> str:
    return f"{at.astimezone(zone(time_zone)):%Y-%m-%d %H:%M %Z}"


def _move_reason(status: ChannelStatus, before: GoLiveWindow, after: GoLiveWindow) -> str:
    tz = after.time_zone
    retires = f"retires {_when(before.retires_at, tz)} -> {_when(after.retires_at, tz)}"
    if status == "open":
        return f"stays open; {retires}"
    return f"opens {_when(before.opens_at, tz)} -> {_when(after.opens_at, tz)}, {retires}"


def channel_impact(
    current_plan: RolloutPlan,
    new_plan: RolloutPlan,
    channel_states: Mapping[str, ChannelState],
    now: datetime,
    settings: WindowSettings | None = None,
    name_template: str = DEFAULT_NAME_TEMPLATE,
) -> list[ChannelImpact]:
    """The channels ``new_plan`` would open, close or move compared with ``current_plan``, at ``now``."""
    settings = settings or WindowSettings()
    already_due = {
        (action.kind, action.station)
        for action in reconcile(current_plan, channel_states, now, settings, name_template)
    }
    before, after = current_plan.by_station(), new_plan.by_station()

    def windows(station: str) -> tuple[GoLiveWindow | None, GoLiveWindow | None]:
        was, will = before.get(station), after.get(station)
        return (
            window_for(was, settings) if was is not None and not was.pulled else None,
            window_for(will, settings) if will is not None and not will.pulled else None,
        )

    impacts: list[ChannelImpact] = []
    acted: set[str] = set()
    for action in reconcile(new_plan, channel_states, now, settings, name_template):
        if (action.kind, action.station) in already_due:
            continue
        state = channel_states.get(action.station)
        window_before, window_after = windows(action.station)
        impacts.append(
            ChannelImpact(
                kind=action.kind,
                station=action.station,
                name=action.name or (state.display_name if state and state.display_name else ""),
                status=state.status if state else "planned",
                channel_id=action.channel_id,
                window_before=window_before,
                window_after=window_after,
                action=action,
                reason=action.reason,
            )
        )
        acted.add(action.station)

    for station in sorted(before.keys() & after.keys() - acted):
        state = channel_states.get(station)
        status: ChannelStatus = state.status if state else "planned"
        window_before, window_after = windows(station)
        if status not in _LIVE or window_before is None or window_after is None:
            continue
        if (window_before.opens_at, window_before.retires_at) == (
            window_after.opens_at,
            window_after.retires_at,
        ):
            continue
        impacts.append(
            ChannelImpact(
                kind="move",
                station=station,
                name=after[station].name,
                status=status,
                channel_id=state.channel_id if state else None,
                window_before=window_before,
                window_after=window_after,
                action=None,
                reason=_move_reason(status, window_before, window_after),
            )
        )
    return sorted(impacts, key=lambda impact: (_KIND_ORDER[impact.kind], impact.station))


def open_sites_pulled(
    current: RolloutPlan, new: RolloutPlan, channel_states: Mapping[str, ChannelState]
) -> list[Site]:
    """The sites planned in ``current`` whose channel is open and that ``new`` pulls (or drops,
    which saving the plan turns into a pull), by station."""
    after = new.by_station()
    pulled = []
    for entry in current.active():
        state = channel_states.get(entry.station)
        if state is None or state.status != "open":
            continue
        later = after.get(entry.station)
        if later is None or later.pulled:
            pulled.append(entry.site)
    return sorted(pulled, key=lambda site: site.station)
