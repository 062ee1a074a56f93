"""The reconciler: a pure function from (plan, channel states, now) to the channel actions due now.

The caller (the bot's schedule job) stores one ``ChannelState`` per station, carries out the actions
``reconcile`` returns, records the new states (``apply_action`` says what each successful action
leaves behind) and calls again on the next tick. Because the answer depends only on the plan, the
stored states and ``now``, a repeated tick, a missed tick or a restart only catches up.

Rules, for each station (``window`` is its go-live window under the current plan):

=========================  ==========================================================  ============
stored status              plan says                                                   action
=========================  ==========================================================  ============
none / planned             planned, ``opens_at <= now < retires_at``                   open
none / planned             planned, window not begun                                   nothing
none / planned             planned, whole window already over (missed ticks)           nothing [1]
none / planned             pulled, or the station is no longer in the plan             cancel [2]
open                       planned, ``now >= retires_at``                              retire
open                       planned, display name differs from the stored one           rename
open                       planned, window moved later (not begun yet)                 nothing [3]
open                       pulled, or the station is no longer in the plan             cancel
retired                    anything                                                    nothing [4]
cancelled                  planned again (re-planned after being pulled), in window    open [5]
cancelled                  anything else                                               nothing
=========================  ==========================================================  ============

[1] A site whose whole window was missed gets no channel: opening a channel only to retire it at
    once helps nobody. It stays "planned"; ``missed_windows`` lists such sites for the report. A
    site whose window is in progress when the reconciler first sees it opens at once.
[2] ``cancel`` with ``channel_id=None`` only marks the station cancelled; there is no channel.
    With a channel, the bot posts a short notice and archives it.
[3] A channel that is already open stays open and retires at the end of the re-planned window;
    closing it and opening it again would break the "never twice" promise.
[4] Retired is final: a site that already had its go-live week never gets a second channel.
[5] A pulled site that a delivery manager puts back into the plan gets its window. The ``open``
    action then carries the old ``channel_id`` (if the cancelled channel existed) so the bot can
    unarchive it instead of creating a duplicate name. Only a cancel by the reconciler produces
    "cancelled", so a "cancelled" state next to an active plan entry always means re-planned.

Actions are sorted by the instant they were due, then station. ``open`` and ``retire`` carry the
window so the welcome and retirement notices can say when the channel opens and retires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from schedule.localtime import require_aware
from schedule.plan import GoLiveWindow, PlannedSite, RolloutPlan, WindowSettings, window_for

ChannelStatus = Literal["planned", "open", "retired", "cancelled"]
ActionKind = Literal["open", "retire", "rename", "cancel"]

DEFAULT_NAME_TEMPLATE = "Go Live - {station} {name}"
# Teams refuses these in channel names, and names longer than 50 characters.
_FORBIDDEN_IN_CHANNEL_NAME = re.compile(r"""[~#%&*{}+/\\:<>?|'",]""")
MAX_CHANNEL_NAME = 50


@dataclass(frozen=True)
class ChannelState:
    """What the product last recorded about a station's go-live channel."""

    station: str
    status: ChannelStatus
    channel_id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class ChannelAction:
    """One thing to do to a go-live channel now.

    ``open``: create the channel named ``display_name`` (or unarchive ``channel_id`` if set) and post
    the welcome. ``retire``: post the retirement notice and archive. ``rename``: set the channel's
    display name. ``cancel``: post a short notice and archive if ``channel_id`` is set; always record
    the station as cancelled.
    """

    kind: ActionKind
    station: str
    name: str
    display_name: str
    channel_id: str | None
    due_at: datetime | None = None
    window: GoLiveWindow | None = None
    reason: str = ""


def channel_display_name(station: str, name: str, template: str = DEFAULT_NAME_TEMPLATE) -> str:
    """The channel name for a site: the template filled in, made acceptable to Teams."""
    text = template.format(station=station, name=name)
    text = _FORBIDDEN_IN_CHANNEL_NAME.sub("", text)
    text = re.sub(r"\.{2,}", ".", text)
    text = " ".join(text.split())
    text = text.lstrip("_.")[:MAX_CHANNEL_NAME].rstrip(" .")
    return text or station


def reconcile(
    plan: RolloutPlan,
    channels: Mapping[str, ChannelState],
    now: datetime,
    settings: WindowSettings | None = None,
    name_template: str = DEFAULT_NAME_TEMPLATE,
) -> list[ChannelAction]:
    """The channel actions due at ``now`` (see the module docstring for the rules)."""
    require_aware(now, "now")
    settings = settings or WindowSettings()
    planned = plan.by_station()
    actions: list[ChannelAction] = []

    for entry in plan.entries:
        action = _action_for_entry(entry, channels.get(entry.station), now, settings, name_template)
        if action is not None:
            actions.append(action)

    for station, state in channels.items():
        if station in planned or state.status not in ("planned", "open"):
            continue
        actions.append(
            ChannelAction(
                kind="cancel",
                station=station,
                name="",
                display_name=state.display_name or "",
                channel_id=state.channel_id,
                due_at=now,
                reason=f"{station} is no longer in the rollout plan",
            )
        )

    actions.sort(key=lambda a: (a.due_at or now, a.station, a.kind))
    return actions


def _action_for_entry(
    entry: PlannedSite,
    state: ChannelState | None,
    now: datetime,
    settings: WindowSettings,
    name_template: str,
) -> ChannelAction | None:
    status = state.status if state else "planned"
    channel_id = state.channel_id if state else None
    display_name = channel_display_name(entry.station, entry.name, name_template)

    def action(
        kind: ActionKind, due_at: datetime, reason: str, window: GoLiveWindow | None = None
    ) -> ChannelAction:
        return ChannelAction(
            kind, entry.station, entry.name, display_name, channel_id, due_at, window, reason
        )

    if status == "retired":
        return None
    if entry.pulled:
        if status in ("planned", "open"):
            return action("cancel", now, f"{entry.site} was pulled from the rollout")
        return None

    window = window_for(entry, settings)
    if status == "open":
        if now >= window.retires_at:
            return action("retire", window.retires_at, f"the go-live window of {entry.site} ended", window)
        if state is not None and state.display_name != display_name:
            return action("rename", now, f"the plan names the channel {display_name!r}")
        return None
    # planned, never opened, or cancelled and then put back into the plan
    if window.opens_at <= now < window.retires_at:
        reason = f"the go-live window of {entry.site} is open"
        if status == "cancelled":
            reason = f"{entry.site} was put back into the rollout and its window is open"
        return action("open", window.opens_at, reason, window)
    return None


def missed_windows(
    plan: RolloutPlan,
    channels: Mapping[str, ChannelState],
    now: datetime,
    settings: WindowSettings | None = None,
) -> list[PlannedSite]:
    """Planned sites whose whole window passed without their channel ever opening."""
    require_aware(now, "now")
    missed = []
    for entry in plan.active():
        state = channels.get(entry.station)
        if (state is None or state.status in ("planned", "cancelled")) and now >= window_for(
            entry, settings
        ).retires_at:
            missed.append(entry)
    return missed


def apply_action(
    state: ChannelState | None, action: ChannelAction, channel_id: str | None = None
) -> ChannelState:
    """The state a station is in once ``action`` was carried out successfully.

    ``channel_id`` is the id of the channel an ``open`` created (defaults to the action's own).
    """
    current = state or ChannelState(action.station, "planned")
    if action.kind == "open":
        return ChannelState(action.station, "open", channel_id or action.channel_id, action.display_name)
    if action.kind == "retire":
        return replace(current, status="retired")
    if action.kind == "rename":
        return replace(current, display_name=action.display_name)
    if action.kind == "cancel":
        return replace(current, status="cancelled")
    raise ValueError(f"unknown channel action {action.kind!r}")


def apply_actions(
    channels: Mapping[str, ChannelState],
    actions: Iterable[ChannelAction],
    channel_ids: Mapping[str, str] | None = None,
) -> dict[str, ChannelState]:
    """The states after all ``actions`` succeeded (a new dict; ``channels`` is not changed).

    A new channel's id is taken from ``channel_ids[station]``, else ``channel-{station}``.
    """
    states = dict(channels)
    for action in actions:
        new_id = None
        if action.kind == "open" and action.channel_id is None:
            new_id = (channel_ids or {}).get(action.station, f"channel-{action.station}")
        states[action.station] = apply_action(states.get(action.station), action, new_id)
    return states
