"""The channel directory port over Microsoft Graph: the Go Live team's channels.

The team is ``GOLIVE_TEAM_ID``, else the Graph id Teams gave with the install event. Graph's errors
become the ports' ``Transient`` (throttled, 5xx, token trouble) and ``Permanent`` (not found,
rejected).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.ports import ChatChannel, Permanent, Transient
from bot.teams.graph import (
    ChannelNameConflict,
    GraphChannel,
    GraphChannelClient,
    GraphError,
    GraphNotFound,
    GraphThrottled,
)
from bot.teams.places import TeamsPlaces

T = TypeVar("T")
GraphFactory = Callable[[str], GraphChannelClient]


def _channel(channel: GraphChannel) -> ChatChannel:
    return ChatChannel(channel.id, channel.display_name, channel.is_archived)


class TeamsChannelDirectory:
    def __init__(self, graph_for: GraphFactory, team_id: str, places: TeamsPlaces) -> None:
        self._graph_for = graph_for
        self._team_id = team_id
        self._places = places

    async def _graph(self) -> GraphChannelClient:
        team_id = self._team_id
        if not team_id:
            place = await self._places.latest()
            team_id = place.graph_team_id if place is not None else ""
        if not team_id:
            raise Transient("the Go Live team is not known yet (install the bot or set GOLIVE_TEAM_ID)", 10.0)
        return self._graph_for(team_id)

    async def _call(self, work: Callable[[GraphChannelClient], Awaitable[T]]) -> T:
        graph = await self._graph()
        try:
            return await work(graph)
        except GraphThrottled as error:
            raise Transient("Graph throttled", error.retry_after) from None
        except GraphNotFound:
            raise Permanent("Graph: team or channel not found") from None
        except GraphError as error:
            if error.status >= 500 or error.status in (401, 429):
                raise Transient(f"Graph error {error.status}") from None
            raise Permanent(f"Graph rejected the request ({error.status} {error.code})") from None

    async def ensure_channel(self, display_name: str, description: str) -> ChatChannel:
        async def ensure(graph: GraphChannelClient) -> ChatChannel:
            try:
                return _channel(await graph.create_channel(display_name, description))
            except ChannelNameConflict:
                existing = await graph.find_channel_by_name(display_name)
                if existing is None:
                    raise
                if existing.is_archived:
                    await graph.unarchive_channel(existing.id)
                return ChatChannel(existing.id, existing.display_name, False)

        return await self._call(ensure)

    async def find_channel(self, display_name: str) -> ChatChannel | None:
        async def find(graph: GraphChannelClient) -> ChatChannel | None:
            found = await graph.find_channel_by_name(display_name)
            return _channel(found) if found is not None else None

        return await self._call(find)

    async def rename_channel(self, channel_id: str, display_name: str) -> None:
        await self._call(lambda graph: graph.rename_channel(channel_id, display_name))

    async def archive_channel(self, channel_id: str) -> None:
        await self._call(lambda graph: graph.archive_channel(channel_id))

    async def bot_messages(self, channel_id: str, root_id: str | None) -> list[dict[str, Any]]:
        """The bot's own messages among a channel's root posts or a thread's replies (Graph, with
        the RSC permission ChannelMessage.Read.Group), newest first."""
        messages = await self._call(lambda graph: graph.list_messages(channel_id, root_id))
        return [m for m in messages if isinstance(m.get("from"), dict) and m["from"].get("application")]
