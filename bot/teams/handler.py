"""The Teams activity handler: parse the activity into our own event, call one use case, answer.

It reads like a routing table on purpose; the work happens in ``bot.bridge``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import ChannelInfo, TeamInfo, TeamsChannelAccount

from bot.events import (
    CardAction,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    PersonalMessage,
    TeamChange,
)
from bot.teams import parsing

log = logging.getLogger(__name__)


class UseCases(Protocol):
    async def on_channel_post(self, post: ChannelPost) -> None: ...
    async def on_edit(self, edit: MessageEdited) -> None: ...
    async def on_delete(self, deletion: MessageDeleted) -> None: ...
    async def on_card_action(self, action: CardAction) -> dict: ...
    async def on_personal_message(self, message: PersonalMessage) -> None: ...
    async def on_team_change(self, change: TeamChange) -> None: ...


def invoke_error(status: int, code: str, message: str) -> dict:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


class GoLiveBot(TeamsActivityHandler):
    def __init__(self, use_cases: UseCases) -> None:
        self._use_cases = use_cases

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
        return InvokeResponse(status=200, body=await self._use_cases.on_card_action(action))

    async def on_teams_members_added(
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_added):
            await self._change(turn_context, "installed")

    async def on_teams_members_removed(
        self, teams_members_removed: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in teams_members_removed):
            await self._change(turn_context, "removed")

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._change(turn_context, "installed")

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._change(turn_context, "removed")

    async def on_teams_channel_created(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._change(turn_context, "channel_created", channel_info)

    async def on_teams_channel_renamed(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._change(turn_context, "channel_renamed", channel_info)

    async def on_teams_channel_deleted(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._change(turn_context, "channel_deleted", channel_info)

    async def on_teams_channel_restored(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context):
        await self._change(turn_context, "channel_restored", channel_info)

    async def on_teams_team_archived(self, team_info: TeamInfo, turn_context: TurnContext):
        await self._change(turn_context, "team_archived")

    async def on_teams_team_unarchived(self, team_info: TeamInfo, turn_context: TurnContext):
        await self._change(turn_context, "team_unarchived")

    async def _change(self, turn_context: TurnContext, kind: str, channel: ChannelInfo | None = None) -> None:
        activity = turn_context.activity
        await self._use_cases.on_team_change(
            TeamChange(
                place=parsing.place_of(activity),
                kind=kind,
                channel_id=channel.id if channel else None,
                channel_name=channel.name if channel else None,
                at=activity.timestamp,
            )
        )
