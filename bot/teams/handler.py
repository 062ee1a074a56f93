"""The Teams activity handler: parse the activity into our own event, call one use case, answer.

It reads like a routing table on purpose; the work happens in ``bot.bridge``. Teams' own
bookkeeping (where to reach the team: service URL, tenant) is kept here, through ``TeamsPlaces``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import ChannelInfo, TeamInfo, TeamsChannelAccount

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
from bot.teams.cards import invoke_response, render_card
from bot.teams.places import TeamEvent, TeamsPlaces

log = logging.getLogger(__name__)


class UseCases(Protocol):
    async def on_channel_post(self, post: ChannelPost) -> None: ...
    async def on_edit(self, edit: MessageEdited) -> None: ...
    async def on_delete(self, deletion: MessageDeleted) -> None: ...
    async def on_card_action(self, action: CardAction) -> ActionOutcome: ...
    async def on_personal_message(self, message: PersonalMessage) -> None: ...
    async def on_channel_change(self, change: ChannelChange) -> None: ...


def invoke_error(status: int, code: str, message: str) -> dict:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


def invoke_body(outcome: ActionOutcome) -> dict:
    """A use case's answer to a card action as the body of Teams' invoke response."""
    if outcome.status != 200:
        return invoke_response(outcome.status, error=outcome.message or "The action failed.")
    if outcome.view is not None:
        return invoke_response(200, card=render_card(outcome.view))
    return invoke_response(200, message=outcome.message or "Done.")


class GoLiveBot(TeamsActivityHandler):
    def __init__(self, use_cases: UseCases, places: TeamsPlaces, clock: Clock) -> None:
        self._use_cases = use_cases
        self._places = places
        self._clock = clock

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self._places.remember(parsing.place_of(activity), self._clock.now())
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if parsing.is_channel_conversation(activity):
            await self._use_cases.on_channel_post(parsing.parse_channel_post(activity))
        else:
            await self._use_cases.on_personal_message(parsing.parse_personal_message(activity))

    async def on_teams_message_edit(self, turn_context: TurnContext) -> None:
        await self._use_cases.on_edit(parsing.parse_edit(turn_context.activity))

    async def on_teams_message_soft_delete(self, turn_context: TurnContext) -> None:
        await self._use_cases.on_delete(parsing.parse_delete(turn_context.activity))

    async def on_message_reaction_activity(self, turn_context: TurnContext) -> None:
        return None  # reactions carry no inquiry content

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity: Activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return InvokeResponse(status=501, body=None)
        action = parsing.parse_card_action(activity)
        if action is None:
            return InvokeResponse(
                status=200, body=invoke_error(400, "BadRequest", "Expected an Action.Execute.")
            )
        # The body is already JSON-ready; the HTTP edge writes it (botbuilder 4.17.1 would crash
        # re-serialising a dict, answering 500 to every card action).
        return InvokeResponse(status=200, body=invoke_body(await self._use_cases.on_card_action(action)))

    async def on_teams_members_added(
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_added):
            await self._team_event(turn_context, "installed")

    async def on_teams_members_removed(
        self, teams_members_removed: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_removed):
            await self._team_event(turn_context, "removed")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._team_event(turn_context, "installed")

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._team_event(turn_context, "removed")

    async def on_teams_channel_created(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._channel_change(turn_context, "created", channel_info)

    async def on_teams_channel_renamed(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._channel_change(turn_context, "renamed", channel_info)

    async def on_teams_channel_deleted(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._channel_change(turn_context, "deleted", channel_info)

    async def on_teams_channel_restored(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._channel_change(turn_context, "restored", channel_info)

    async def on_teams_team_archived(self, team_info: TeamInfo, turn_context: TurnContext):
        await self._team_event(turn_context, "team_archived")

    async def on_teams_team_unarchived(self, team_info: TeamInfo, turn_context: TurnContext):
        await self._team_event(turn_context, "team_unarchived")

    async def _team_event(self, turn_context: TurnContext, event: TeamEvent) -> None:
        await self._places.team_event(parsing.place_of(turn_context.activity), event, self._clock.now())
        log.info("team change: %s", event)

    async def _channel_change(self, turn_context: TurnContext, kind, channel: ChannelInfo | None) -> None:  # type: ignore[no-untyped-def]
        if channel is None or not channel.id:
            return
        await self._use_cases.on_channel_change(
            ChannelChange(
                platform="teams",
                kind=kind,
                channel_id=channel.id,
                channel_name=channel.name,
                at=turn_context.activity.timestamp,
            )
        )
