"""Where the bot can reach Teams: the service URL, tenant and team ids of the Go Live team.

Teams tells the bot these on every activity (``serviceUrl``, ``channelData.tenant``/``team``); they
are kept in ``teams_context`` so the bot can post proactively after a restart (escalations, channel
lifecycle, reports). This is Teams' own bookkeeping: the use cases never see a service URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update

from bot.ports import Transient
from bot.storage import tables
from bot.storage.store import Store


@dataclass(frozen=True)
class TeamsPlace:
    """Where an activity came from, enough to answer it proactively later."""

    service_url: str
    tenant_id: str | None
    team_thread_id: str | None
    graph_team_id: str | None
    bot_id: str
    bot_name: str | None


TeamEvent = Literal["installed", "removed", "team_archived", "team_unarchived"]


class TeamsPlaces:
    """The stored Teams contexts (one per team the bot is installed in)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # Places already stored this run: the same service URL and team need no write per post.
        self._known: set[TeamsPlace] = set()

    async def remember(self, place: TeamsPlace, at: datetime) -> None:
        if place in self._known or not place.team_thread_id or not place.service_url:
            return
        values: dict[str, Any] = {
            "service_url": place.service_url,
            "tenant_id": place.tenant_id,
            "bot_id": place.bot_id,
            "bot_name": place.bot_name,
            "updated_at": at,
        }
        if place.graph_team_id:
            values["graph_team_id"] = place.graph_team_id
        async with self._store.write() as connection:
            inserted = await self._store.insert_if_absent(
                connection,
                tables.teams_context,
                {"team_thread_id": place.team_thread_id, "installed": True, "archived": False, **values},
                ["team_thread_id"],
            )
            if not inserted:
                await connection.execute(
                    update(tables.teams_context)
                    .where(tables.teams_context.c.team_thread_id == place.team_thread_id)
                    .values(**values)
                )
        self._known.add(place)

    async def team_event(self, place: TeamsPlace, event: TeamEvent, at: datetime) -> None:
        """The bot was installed in or removed from a team, or the team was (un)archived."""
        self._known.discard(place)
        await self.remember(place, at)
        if event == "installed" or not place.team_thread_id:
            return
        values = {"installed": False} if event == "removed" else {"archived": event == "team_archived"}
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.teams_context)
                .where(tables.teams_context.c.team_thread_id == place.team_thread_id)
                .values(**values)
            )

    async def latest(self) -> Any:
        """The most recently seen Teams context (service URL, tenant, team) for proactive posts."""
        async with self._store.read() as connection:
            return (
                await connection.execute(
                    select(tables.teams_context).order_by(tables.teams_context.c.updated_at.desc()).limit(1)
                )
            ).first()

    async def require(self) -> Any:
        place = await self.latest()
        if place is None:
            raise Transient("no Teams service URL known yet (the bot has not heard from Teams)", 10.0)
        return place
