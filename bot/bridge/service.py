"""The use cases a chat platform's edge calls: one object, one method per kind of event.

Handlers on every platform read like a routing table: parse what arrived into a ``bot.ports`` event,
call one method here, render the answer. Each method runs its work in one transaction and wakes the
outbox when it queued something.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import records
from bot.bridge.actions import ActionResult, UnknownAction, apply_action
from bot.bridge.config import BridgeConfig
from bot.bridge.dispatch import CommandDispatcher, CommandRequest
from bot.bridge.followups import FollowUpActions
from bot.bridge.inquiries import InquiryService
from bot.bridge.keys import text_fingerprint
from bot.bridge.people import actor_label, engineer_for
from bot.bridge.personal import PersonalCommands
from bot.bridge.render import Renderer
from bot.clock import Clock
from bot.commands import CHANNEL
from bot.ports import (
    ActionOutcome,
    CardAction,
    ChannelChange,
    ChannelPost,
    MessageDeleted,
    MessageEdited,
    PersonalMessage,
)
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

NO_ROSTER = (
    "No duty roster is loaded yet, so nobody is known as an engineer here. "
    "Please work on the incident in ServiceNow, or ask a delivery manager to load the roster."
)


class AlertActions(Protocol):
    """Where the buttons of an alert's post go (``bot.bridge.alerts.AlertService``)."""

    async def on_card_action(self, action: CardAction) -> ActionOutcome: ...


class BridgeService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        renderer: Renderer,
        dispatcher: CommandDispatcher,
        personal: PersonalCommands,
        wake_outbox: Callable[[], None],
        *,
        alerts: AlertActions | None = None,
        followups: FollowUpActions | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._personal = personal
        self._wake = wake_outbox
        self._alerts = alerts
        self._followups = followups
        self.inquiries = InquiryService(store, clock, config, dispatcher)

    async def on_channel_post(self, post: ChannelPost) -> None:
        if (
            self._config.management_channel_id
            and post.thread.channel_id == self._config.management_channel_id
            and post.mentions_bot
            and not post.from_bot
        ):
            request = CommandRequest(
                place=CHANNEL,
                platform=post.thread.platform,
                author=post.author,
                at=post.posted_at,
                thread=post.thread,
            )
            await self._dispatcher.handle_text(
                request, f"msg|{post.thread.key}|{post.message_id}", post.text, self._clock.now()
            )
            self._wake()
            return
        if await self.inquiries.on_channel_post(post):
            self._wake()

    async def on_edit(self, edit: MessageEdited) -> None:
        if await self.inquiries.on_edit(edit):
            self._wake()

    async def on_delete(self, deletion: MessageDeleted) -> None:
        if await self.inquiries.on_delete(deletion):
            self._wake()

    async def on_personal_message(self, message: PersonalMessage) -> None:
        request = CommandRequest(
            place="personal",
            platform=message.platform,
            author=message.author,
            at=message.at,
            conversation_id=message.conversation_id,
        )
        await self._dispatcher.handle_text(
            request,
            f"personal|{message.conversation_id}|{message.message_id}",
            message.text,
            self._clock.now(),
        )
        self._wake()

    async def on_channel_change(self, change: ChannelChange) -> None:
        now = self._clock.now()
        async with self._store.write() as connection:
            if change.kind in {"created", "renamed", "restored"}:
                await self._adopt_channel(connection, change)
            if change.kind == "deleted":
                await connection.execute(
                    update(tables.channels)
                    .where(
                        tables.channels.c.channel_id == change.channel_id, tables.channels.c.status == "open"
                    )
                    .values(status="retired", retired_at=now)
                )
        log.info("channel change: %s", change.kind)

    async def _adopt_channel(self, connection: AsyncConnection, change: ChannelChange) -> None:
        """A channel named like a go-live channel that the bot did not create (made by hand, or
        before a database was reset) is taken on, so posts in it still become incidents."""
        station = station_in_channel_name(change.channel_name or "", self._config.channel_template)
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

    async def on_card_action(self, action: CardAction) -> ActionOutcome:
        if action.verb == views.VERB_FOLLOWUP and self._followups is not None:
            return await self._followups.on_card_action(action)  # inquiry and alert cards alike
        if self._alerts is not None and views.DATA_ALERT in action.data:
            return await self._alerts.on_card_action(action)
        if action.verb == views.VERB_ADD_WEEK:
            return await self._personal.on_add_week_card(action)
        if action.verb in views.PLAN_VERBS:
            return await self._personal.on_plan_card(action)
        if action.verb not in views.CARD_VERBS:
            return ActionOutcome(400, f"Unknown action '{action.verb[:40]}'.")
        key = str(action.data.get(views.DATA_INQUIRY, ""))
        actor = action.actor
        now = self._clock.now()
        async with self._store.write() as connection:
            # A platform may deliver the same press twice; the second gets the same answer, no new effect.
            inquiry = await records.inquiry_by_key(connection, key) if key else None
            if inquiry is None:
                return ActionOutcome(404, "That incident is not known to Go Live Bridge.")
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_for(roster, actor)
            first_sight = await records.first_sight(
                self._store,
                connection,
                f"invoke|{action.conversation_id}|{action.card_message_id}|{action.verb}|"
                f"{actor.aad_object_id or actor.id if actor else ''}|{text_fingerprint(repr(sorted(action.data.items())))}",
                "invoke",
                now,
            )
            # Anyone may say which site an inquiry is about (the poster knows best); the rest is the
            # engineers' work, and without a roster nobody is known as an engineer (deny by default).
            engineers_only = action.verb != views.VERB_SET_SITE
            refused = first_sight and (
                actor is None or (engineers_only and (roster is None or engineer is None))
            )
            if not first_sight:
                result = ActionResult(200, "Already done.")
            elif engineers_only and roster is None:
                result = ActionResult(403, NO_ROSTER)
            elif actor is None or (engineers_only and engineer is None):
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
                        actor_servicenow_user=engineer.servicenow_user if engineer else None,
                        groups=self._config.groups,
                        at=action.at or now,
                        source="card",
                        where=action.platform.capitalize(),
                        window=self._config.window,
                    )
                except UnknownAction:
                    result = ActionResult(400, f"Unknown action '{action.verb[:40]}'.")
            if refused:  # apply_action audits its own refusals
                await records.audit(
                    connection,
                    now,
                    actor_label(actor),
                    "action.refused",
                    f"{action.verb[:40]} on {inquiry.number or inquiry.correlation_id} ({action.platform} card): "
                    f"{result.message}",
                )
        self._wake()
        # A message, never a card: the card is replaced by the job that makes the change in
        # ServiceNow, rendered from what ServiceNow answered (a card rendered now would show the
        # incident as it was before the change, and overwrite the job's card).
        return ActionOutcome(result.status, result.message)


def station_in_channel_name(name: str, template: str) -> str | None:
    """The station of a channel named by the go-live template (``Go Live - 508 Atlanta`` -> ``508``)."""
    pattern = (
        re.escape(template).replace(r"\{station\}", r"(?P<station>[0-9A-Za-z]+)").replace(r"\{name\}", r".*")
    )
    match = re.fullmatch(pattern, name.strip())
    return match.group("station").upper() if match else None


__all__ = ["BridgeService", "station_in_channel_name"]
