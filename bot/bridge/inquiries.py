"""Use cases for what site staff and engineers do in the go-live channels.

Each handler runs one transaction: it records the activity in the inbox (so a redelivery is
recognised and acknowledged without effect), updates the inquiry, and queues the side effects in
the outbox. Nothing here waits for ServiceNow or Teams.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import records
from bot.bridge.actions import ActionResult, UnknownAction, apply_action
from bot.bridge.keys import correlation_id_for, text_fingerprint, thread_conversation_id
from bot.bridge.outbox import enqueue
from bot.bridge.privacy import looks_like_personal_data
from bot.clock import Clock
from bot.commands import parse_command
from bot.events import ChannelPost, MessageDeleted, MessageEdited
from bot.storage import tables
from bot.storage.store import Store
from schedule.plan import WindowSettings, go_live_day
from schedule.roster import DutyRoster
from servicenow.model import STATE_RESOLVED

log = logging.getLogger(__name__)

THREAD_COMMANDS = {"ack", "route", "assign me", "resolve", "triage", "status", "log", "duty", "help"}


@dataclass(frozen=True)
class BridgeConfig:
    tier2_group: str
    product_group: str
    product_name: str
    window: WindowSettings
    first_response_minutes: float = 5.0
    second_escalation_minutes: float = 15.0
    servicenow_url: str = ""

    @property
    def correlation_display(self) -> str:
        return f"{self.product_name} Go Live"

    @property
    def groups(self) -> tuple[str, str]:
        return (self.tier2_group, self.product_group)


def engineer_of(roster: DutyRoster | None, aad_object_id: str | None):
    if roster is None or not aad_object_id:
        return None
    for engineer in roster.engineers.values():
        if engineer.aad_object_id == aad_object_id:
            return engineer
    return None


class InquiryService:
    def __init__(
        self, store: Store, clock: Clock, config: BridgeConfig, wake_outbox: Callable[[], None]
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._wake = wake_outbox
        # Places already stored this run: the same service URL and team need no write per post.
        self._known_places: set = set()

    async def _first_sight(self, connection: AsyncConnection, key: str, kind: str) -> bool:
        return await records.first_sight(self._store, connection, key, kind, self._clock.now())

    async def on_channel_post(self, post: ChannelPost) -> None:
        try:
            await self._on_channel_post(post)
        except IntegrityError:
            # Two posts of one new thread raced (PostgreSQL): the loser retries and now sees the
            # winner's inquiry, so its post becomes a follow-up.
            await self._on_channel_post(post)

    async def _on_channel_post(self, post: ChannelPost) -> None:
        async with self._store.write() as connection:
            if not await self._first_sight(
                connection, f"msg|{post.conversation_id}|{post.message_id}", "message"
            ):
                log.info("duplicate activity ignored (message %s)", post.message_id)
                return
            if post.place not in self._known_places:
                await records.remember_place(self._store, connection, post.place, self._clock.now())
                self._known_places.add(post.place)
            if post.from_bot:
                return
            channel = await records.channel_by_id(connection, post.channel_id)
            if channel is None:
                if post.mentions_bot:
                    await enqueue(
                        self._store,
                        connection,
                        "reply",
                        {
                            "conversation_id": post.conversation_id,
                            "service_url": post.place.service_url,
                            "template": "help",
                        },
                    )
                return
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_of(roster, post.author.aad_object_id)
            existing = await records.inquiry_by_thread(connection, _thread_id(post))
            if existing is None:
                await self._new_inquiry(connection, post, channel, engineer)
            else:
                await self._follow_up(connection, post, existing, engineer)
        self._wake()

    async def _new_inquiry(self, connection: AsyncConnection, post: ChannelPost, channel, engineer) -> None:
        command = parse_command(post.text) if post.mentions_bot else None
        asked_to_log = command is not None and command.name == "log"
        if engineer is not None and not asked_to_log:
            log.info("engineer announcement in channel of station %s: not an inquiry", channel.station)
            return
        if command is not None and not asked_to_log and command.name in THREAD_COMMANDS:
            await enqueue(
                self._store,
                connection,
                "reply",
                {
                    "conversation_id": _thread_id(post),
                    "service_url": post.place.service_url,
                    "template": "help",
                },
            )
            return
        text = command.raw_args if asked_to_log and command.raw_args else post.text
        if not text.strip():
            text = "(empty post)"
        site = await _site(connection, channel.station)
        day = None
        if site is not None:
            day = go_live_day(site, self._config.window, post.posted_at)
        now = self._clock.now()
        result = await connection.execute(
            tables.inquiries.insert().values(
                correlation_id=correlation_id_for(post.conversation_id, post.root_id),
                channel_id=post.channel_id,
                root_message_id=post.root_id,
                conversation_id=_thread_id(post),
                station=channel.station,
                site_name=site.site.name if site else None,
                author_name=post.author.name,
                author_aad_id=post.author.aad_object_id,
                text=text,
                posted_at=post.posted_at,
                received_at=now,
                go_live_day=day,
                late=channel.status in {"retired", "cancelled"},
                logged_by_engineer=engineer is not None,
                assignment_group=self._config.tier2_group,
                escalation_level=0,
                re_routes=0,
                deleted=False,
            )
        )
        inquiry_id = result.inserted_primary_key[0]
        await enqueue(
            self._store,
            connection,
            "create_incident",
            {"service_url": post.place.service_url},
            inquiry_id=inquiry_id,
            dedupe_key=f"create:{inquiry_id}",
        )
        if looks_like_personal_data(text):
            await enqueue(
                self._store,
                connection,
                "reply",
                {
                    "conversation_id": _thread_id(post),
                    "service_url": post.place.service_url,
                    "template": "personal_data",
                },
                inquiry_id=inquiry_id,
                dedupe_key=f"pii:{inquiry_id}",
            )
        log.info("inquiry %s recorded for station %s", inquiry_id, channel.station)

    async def _follow_up(self, connection: AsyncConnection, post: ChannelPost, inquiry, engineer) -> None:
        command = parse_command(post.text) if post.mentions_bot else None
        if command is not None and command.name in THREAD_COMMANDS and command.name != "log":
            await self._thread_command(connection, post, inquiry, engineer, command)
            return
        role = "engineer" if engineer is not None else "site staff"
        await enqueue(
            self._store,
            connection,
            "comment",
            {"text": f"{post.author.name} ({role}) replied in Teams:\n{post.text}"},
            inquiry_id=inquiry.id,
            dedupe_key=f"comment:{post.conversation_id}|{post.message_id}",
        )
        if engineer is not None and inquiry.first_response_at is None:
            await connection.execute(
                update(tables.inquiries)
                .where(tables.inquiries.c.id == inquiry.id, tables.inquiries.c.first_response_at.is_(None))
                .values(
                    first_response_at=post.posted_at,
                    first_response_by=post.author.name,
                    first_response_source="teams_reply",
                )
            )
            await enqueue(self._store, connection, "update_card", {}, inquiry_id=inquiry.id)
        if engineer is None and inquiry.state == STATE_RESOLVED:
            # A reply from the poster after resolution reopens the incident, as ServiceNow's own flow does.
            await enqueue(self._store, connection, "reopen", {}, inquiry_id=inquiry.id)

    async def _thread_command(
        self, connection: AsyncConnection, post: ChannelPost, inquiry, engineer, command
    ) -> None:
        reply = {"conversation_id": _thread_id(post), "service_url": post.place.service_url}
        if command.name in {"help", "duty", "status"}:
            await enqueue(
                self._store, connection, "reply", {**reply, "template": command.name}, inquiry_id=inquiry.id
            )
            return
        if engineer is None:
            await enqueue(
                self._store,
                connection,
                "reply",
                {**reply, "text": "Only engineers on the duty roster can change the incident."},
            )
            return
        verb, data = thread_command_action(command)
        try:
            result = await apply_action(
                self._store,
                connection,
                inquiry,
                verb,
                data,
                post.author,
                actor_servicenow_user=engineer.servicenow_user,
                groups=self._config.groups,
                at=post.posted_at,
                source="command",
            )
        except UnknownAction:
            result = ActionResult(400, "I did not understand that command. Try `help`.")
        await enqueue(self._store, connection, "reply", {**reply, "text": result.message})
        if result.changed:
            await enqueue(self._store, connection, "update_card", {}, inquiry_id=inquiry.id)

    async def on_edit(self, edit: MessageEdited) -> None:
        key = f"edit|{edit.conversation_id}|{edit.message_id}|{text_fingerprint(edit.text)}"

        def note(inquiry, where: str) -> str:
            return f"{edit.author.name} edited {where} in Teams. New text:\n{edit.text}"

        await self._note_thread_change(key, "edit", edit.conversation_id, edit.root_id, edit.message_id, note)

    async def on_delete(self, deletion: MessageDeleted) -> None:
        key = f"delete|{deletion.conversation_id}|{deletion.message_id}"

        def note(inquiry, where: str) -> str:
            return f"{where.capitalize()} was deleted in Teams (by {deletion.author.name})."

        await self._note_thread_change(
            key,
            "delete",
            deletion.conversation_id,
            deletion.root_id,
            deletion.message_id,
            note,
            mark_deleted=True,
        )

    async def _note_thread_change(
        self,
        key: str,
        kind: str,
        conversation_id: str,
        root_id: str,
        message_id: str,
        note,
        *,
        mark_deleted: bool = False,
    ) -> None:
        """An edit or delete in an inquiry's thread becomes a work note on its incident, once."""
        async with self._store.write() as connection:
            if not await self._first_sight(connection, key, kind):
                return
            inquiry = await records.inquiry_by_thread(connection, _thread_of(conversation_id, root_id))
            if inquiry is None:
                return
            is_root = message_id == inquiry.root_message_id
            if mark_deleted and is_root:
                await connection.execute(
                    update(tables.inquiries).where(tables.inquiries.c.id == inquiry.id).values(deleted=True)
                )
            where = "the original post" if is_root else "a reply"
            await enqueue(
                self._store,
                connection,
                "work_note",
                {"text": note(inquiry, where)},
                inquiry_id=inquiry.id,
                dedupe_key=f"worknote:{key}",
            )
        self._wake()


def thread_command_action(command) -> tuple[str, dict]:
    """Map a thread command to the card action it stands for."""
    if command.name == "ack":
        return "acknowledge", {}
    if command.name == "route":
        return "route", {"group": command.raw_args}
    if command.name == "assign me":
        return "assign_me", {}
    if command.name == "triage":
        return "triage", {"category": command.raw_args}
    if command.name == "resolve":
        code, _, notes = command.raw_args.partition("|")
        return "resolve", {"close_code": code.strip(), "close_notes": notes.strip()}
    return command.name, {}


def _thread_of(conversation_id: str, root_id: str) -> str:
    return thread_conversation_id(conversation_id.split(";", 1)[0], root_id)


def _thread_id(post: ChannelPost) -> str:
    return _thread_of(post.conversation_id, post.root_id)


async def _site(connection: AsyncConnection, station: str):
    return await records.planned_site(connection, station)
