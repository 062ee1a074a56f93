"""The use cases the Teams handler calls: one object, one method per kind of event."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from bot import cards
from bot.bridge import records
from bot.bridge.actions import ActionResult, UnknownAction, apply_action
from bot.bridge.inquiries import BridgeConfig, InquiryService, engineer_of
from bot.bridge.outbox import enqueue
from bot.bridge.render import Renderer
from bot.clock import Clock
from bot.events import CardAction, ChannelPost, MessageDeleted, MessageEdited, PersonalMessage, TeamChange
from bot.storage import tables
from bot.storage.store import Store
from schedule.roster import duty_at

log = logging.getLogger(__name__)

PersonalHandler = Callable[[PersonalMessage], Awaitable[None]]


class BridgeService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        renderer: Renderer,
        wake_outbox: Callable[[], None],
        personal_handler: PersonalHandler | None = None,
        management_channel_id: str = "",
        channel_template: str = "Go Live - {station} {name}",
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._renderer = renderer
        self._wake = wake_outbox
        self.inquiries = InquiryService(store, clock, config, wake_outbox)
        self._personal_handler = personal_handler
        self._management_channel_id = management_channel_id
        self._channel_template = channel_template
        self._management_handler: Callable[[ChannelPost], Awaitable[None]] | None = None
        self._add_week_handler: Callable[[CardAction], Awaitable[dict]] | None = None

    def set_personal_handler(self, handler: PersonalHandler) -> None:
        self._personal_handler = handler

    def set_management_handler(self, handler: Callable[[ChannelPost], Awaitable[None]]) -> None:
        self._management_handler = handler

    async def on_channel_post(self, post: ChannelPost) -> None:
        if (
            self._management_handler is not None
            and self._management_channel_id
            and post.channel_id == self._management_channel_id
            and post.mentions_bot
            and not post.from_bot
        ):
            await self._management_handler(post)
            return
        await self.inquiries.on_channel_post(post)

    async def on_edit(self, edit: MessageEdited) -> None:
        await self.inquiries.on_edit(edit)

    async def on_delete(self, deletion: MessageDeleted) -> None:
        await self.inquiries.on_delete(deletion)

    async def on_personal_message(self, message: PersonalMessage) -> None:
        if self._personal_handler is not None:
            await self._personal_handler(message)

    async def on_team_change(self, change: TeamChange) -> None:
        now = self._clock.now()
        async with self._store.write() as connection:
            await records.remember_place(self._store, connection, change.place, now)
            if change.kind in {"removed", "team_archived", "team_unarchived"} and change.place.team_thread_id:
                values = (
                    {"installed": False}
                    if change.kind == "removed"
                    else {"archived": change.kind == "team_archived"}
                )
                await connection.execute(
                    update(tables.teams_context)
                    .where(tables.teams_context.c.team_thread_id == change.place.team_thread_id)
                    .values(**values)
                )
            if change.kind in {"channel_created", "channel_renamed", "channel_restored"}:
                await self._adopt_channel(connection, change, now)
            if change.kind == "channel_deleted" and change.channel_id:
                await connection.execute(
                    update(tables.channels)
                    .where(
                        tables.channels.c.channel_id == change.channel_id, tables.channels.c.status == "open"
                    )
                    .values(status="retired", retired_at=now)
                )
        log.info("team change: %s", change.kind)

    async def _adopt_channel(self, connection, change: TeamChange, now) -> None:
        """A channel named like a go-live channel that the bot did not create (made by hand, or
        before a database was reset) is taken on, so posts in it still become incidents."""
        station = station_in_channel_name(change.channel_name or "", self._channel_template)
        if not change.channel_id or station is None:
            return
        channels = tables.channels
        known = (
            await connection.execute(select(channels).where(channels.c.channel_id == change.channel_id))
        ).first()
        if known is not None:
            return
        row = (await connection.execute(select(channels).where(channels.c.station == station))).first()
        if row is not None and row.channel_id is not None:
            return  # the station already has its channel
        planned = await records.planned_site(connection, station)
        # In the plan, the reconciler takes it from here (and reuses this channel); otherwise it is
        # simply a channel whose posts are logged.
        values = {
            "channel_id": change.channel_id,
            "display_name": change.channel_name,
            "status": "planned" if planned is not None else "adopted",
        }
        if row is None:
            await connection.execute(channels.insert().values(station=station, **values))
        else:
            # The station's channel is being created by the bot right now (its create event can
            # arrive before the Graph answer): record the id, keep the lifecycle's status.
            await connection.execute(
                update(channels)
                .where(channels.c.station == station, channels.c.channel_id.is_(None))
                .values(channel_id=change.channel_id, display_name=change.channel_name)
            )
        log.info("adopted channel for station %s (%s)", station, values["status"])

    async def on_card_action(self, action: CardAction) -> dict:
        if action.verb == cards.VERB_ADD_WEEK:
            if self._add_week_handler is None:
                return cards.invoke_response(501, error="Adding weeks is not available here.")
            return await self._add_week_handler(action)
        if action.verb not in cards.CARD_VERBS:
            return cards.invoke_response(400, error=f"Unknown action '{action.verb[:40]}'.")
        key = str(action.data.get(cards.DATA_INQUIRY, ""))
        actor = action.actor
        async with self._store.write() as connection:
            # Teams may deliver the same invoke twice; the second gets the same answer, no new effect.
            inquiry = await records.inquiry_by_key(connection, key) if key else None
            if inquiry is None:
                return cards.invoke_response(404, error="That incident is not known to Go Live Bridge.")
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_of(roster, actor.aad_object_id if actor else None)
            first_sight = await records.first_sight(
                self._store,
                connection,
                f"invoke|{action.conversation_id}|{action.card_activity_id}|{action.verb}|"
                f"{actor.aad_object_id if actor else ''}|{sorted(action.data.items())}",
                "invoke",
                self._clock.now(),
            )
            if not first_sight:
                result = ActionResult(200, "Already done.")
            elif engineer is None and roster is not None:
                result = ActionResult(403, "Only engineers on the duty roster can change incidents.")
            else:
                try:
                    result = await apply_action(
                        self._store,
                        connection,
                        inquiry,
                        action.verb,
                        action.data,
                        actor,
                        # Without a roster nobody is known as an engineer, so anyone may act.
                        actor_servicenow_user=engineer.servicenow_user if engineer else None,
                        groups=self._config.groups,
                        at=action.at or self._clock.now(),
                        source="card",
                    )
                except UnknownAction:
                    result = ActionResult(400, f"Unknown action '{action.verb[:40]}'.")
            inquiry = await records.inquiry_by_key(connection, key)
            duty = duty_at(roster, inquiry.posted_at) if roster is not None else None
            if result.changed:
                await enqueue(self._store, connection, "update_card", {}, inquiry_id=inquiry.id)
        self._wake()
        if result.status != 200:
            return cards.invoke_response(result.status, error=result.message)
        return cards.invoke_response(200, card=self._renderer.incident_card(inquiry, duty))

    def set_add_week_handler(self, handler: Callable[[CardAction], Awaitable[dict]]) -> None:
        self._add_week_handler = handler


def station_in_channel_name(name: str, template: str) -> str | None:
    """The station of a channel named by the go-live template (``Go Live - 508 Atlanta`` -> ``508``)."""
    pattern = (
        re.escape(template).replace(r"\{station\}", r"(?P<station>[0-9A-Za-z]+)").replace(r"\{name\}", r".*")
    )
    match = re.fullmatch(pattern, name.strip())
    return match.group("station").upper() if match else None
