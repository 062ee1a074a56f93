"""The Teams activity router: parse the activity into our own event, call one use case, answer.

It reads like a routing table on purpose; the work happens in ``bot.bridge``. Teams' own
bookkeeping (where to reach the team: service URL, tenant) is kept here, through ``TeamsPlaces``.
Activities arrive already checked against ``bot.teams.activity.Activity`` by the edge.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.clock import Clock
from bot.ports import (
    ActionOutcome,
    CardAction,
    ChannelChange,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    PersonalMessage,
)
from bot.teams import parsing
from bot.teams.activity import CARD_ACTION_INVOKE, Activity
from bot.teams.cards import invoke_response, render_card
from bot.teams.places import TeamEvent, TeamsPlaces

log = logging.getLogger(__name__)

CHANNEL_EVENTS = {
    "channelCreated": "created",
    "channelRenamed": "renamed",
    "channelDeleted": "deleted",
    "channelRestored": "restored",
}
TEAM_EVENTS: dict[str, TeamEvent] = {"teamArchived": "team_archived", "teamUnarchived": "team_unarchived"}


class UseCases(Protocol):
    async def on_channel_post(self, post: ChannelPost) -> None: ...
    async def on_edit(self, edit: MessageEdited) -> None: ...
    async def on_delete(self, deletion: MessageDeleted) -> None: ...
    async def on_card_action(self, action: CardAction) -> ActionOutcome: ...
    async def on_personal_message(self, message: PersonalMessage) -> None: ...
    async def on_channel_change(self, change: ChannelChange) -> None: ...


def invoke_body(outcome: ActionOutcome) -> dict[str, Any]:
    """A use case's answer to a card action as the body of Teams' invoke response."""
    if outcome.status != 200:
        return invoke_response(outcome.status, error=outcome.message or "The action failed.")
    if outcome.view is not None:
        return invoke_response(200, card=render_card(outcome.view))
    return invoke_response(200, message=outcome.message or "Done.")


class TeamsEvents:
    def __init__(self, use_cases: UseCases, places: TeamsPlaces, clock: Clock) -> None:
        self._use_cases = use_cases
        self._places = places
        self._clock = clock

    async def handle(self, activity: Activity) -> None:
        """A stored (non-invoke) activity: route it to its use case."""
        now = self._clock.now()
        await self._places.remember(parsing.place_of(activity), now)
        kind = activity.type
        event_type = activity.channel_data.event_type if activity.channel_data else None
        if kind == "message":
            if parsing.is_channel_conversation(activity):
                await self._use_cases.on_channel_post(parsing.parse_channel_post(activity, now))
            else:
                await self._use_cases.on_personal_message(parsing.parse_personal_message(activity, now))
        elif kind == "messageUpdate" and event_type == "editMessage":
            await self._use_cases.on_edit(parsing.parse_edit(activity, now))
        elif kind == "messageDelete" and event_type == "softDeleteMessage":
            await self._use_cases.on_delete(parsing.parse_delete(activity, now))
        elif kind == "conversationUpdate":
            await self._conversation_update(activity, event_type)
        elif kind == "installationUpdate":
            action = (activity.action or "").lower()
            if action.startswith("add"):
                await self._team_event(activity, "installed")
            elif action.startswith("remove"):
                await self._team_event(activity, "removed")

    async def invoke(self, activity: Activity) -> dict[str, Any]:
        """An invoke's answer (sent with HTTP 200, as Teams expects)."""
        now = self._clock.now()
        await self._places.remember(parsing.place_of(activity), now)
        if activity.name != CARD_ACTION_INVOKE:
            return invoke_response(
                400, error={"code": "NotSupported", "message": "This invoke is not supported."}
            )
        action = parsing.parse_card_action(activity, now)
        if action is None:
            return invoke_response(
                400, error={"code": "NotSupported", "message": "Expected an Action.Execute."}
            )
        return invoke_body(await self._use_cases.on_card_action(action))

    async def _conversation_update(self, activity: Activity, event_type: str | None) -> None:
        data = activity.channel_data
        if event_type in CHANNEL_EVENTS:
            channel = data.channel if data else None
            if channel is not None and channel.id:
                await self._use_cases.on_channel_change(
                    ChannelChange(
                        platform="teams",
                        kind=CHANNEL_EVENTS[event_type],  # type: ignore[arg-type]
                        channel_id=channel.id,
                        channel_name=channel.name,
                        at=parsing.timestamp_of(activity, self._clock.now()),
                    )
                )
            return
        if event_type in TEAM_EVENTS:
            await self._team_event(activity, TEAM_EVENTS[event_type])
            return
        bot_id = activity.recipient.id if activity.recipient else None
        if bot_id and any(member.id == bot_id for member in activity.members_added or []):
            await self._team_event(activity, "installed")
        elif bot_id and any(member.id == bot_id for member in activity.members_removed or []):
            await self._team_event(activity, "removed")

    async def _team_event(self, activity: Activity, event: TeamEvent) -> None:
        await self._places.team_event(parsing.place_of(activity), event, self._clock.now())
        log.info("team change: %s", event)
