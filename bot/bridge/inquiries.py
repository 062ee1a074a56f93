"""Use cases for what site staff and engineers do in the go-live channels, on any chat platform.

Each handler runs one transaction: it records the event in the inbox (so a redelivery is recognised
and acknowledged without effect), updates the inquiry, and queues the side effects in the outbox.
Nothing here waits for the incident tracker or a chat platform.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.dispatch import CommandDispatcher, CommandRequest
from bot.bridge.keys import correlation_id_for, text_fingerprint
from bot.bridge.outbox import enqueue
from bot.bridge.people import engineer_for
from bot.bridge.privacy import looks_like_personal_data
from bot.bridge.sites import site_named_in
from bot.clock import Clock
from bot.commands import THREAD, ParsedCommand, find_command, parse_command
from bot.ports import ChannelPost, MessageDeleted, MessageEdited, ThreadRef
from bot.storage import tables
from bot.storage.store import Store
from schedule.plan import go_live_day
from servicenow.model import STATE_RESOLVED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """The site an inquiry belongs to (None: not known yet) and whether its channel had closed."""

    station: str | None
    late: bool


def is_thread_command(command: ParsedCommand | None) -> bool:
    """A command that acts in an inquiry's thread (``log`` is not: it only makes a new inquiry)."""
    if command is None or command.name == "log":
        return False
    spec = find_command(command.name)
    return spec is not None and THREAD in spec.places


class InquiryService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        dispatcher: CommandDispatcher,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._dispatcher = dispatcher

    async def _first_sight(self, connection: AsyncConnection, key: str, kind: str) -> bool:
        return await records.first_sight(self._store, connection, key, kind, self._clock.now())

    async def on_channel_post(self, post: ChannelPost) -> bool:
        """Handle a channel message; True when it queued work for the outbox."""
        try:
            return await self._on_channel_post(post)
        except IntegrityError:
            # Two posts of one new thread raced (PostgreSQL): the loser retries and now sees the
            # winner's inquiry, so its post becomes a follow-up.
            return await self._on_channel_post(post)

    async def _on_channel_post(self, post: ChannelPost) -> bool:
        async with self._store.write() as connection:
            if not await self._first_sight(connection, f"msg|{post.thread.key}|{post.message_id}", "message"):
                log.info("duplicate message ignored")
                return False
            if post.from_bot:
                return False
            channel = await records.channel_by_id(connection, post.thread.channel_id)
            if channel is None and not post.watched:
                if post.mentions_bot:
                    await enqueue(
                        self._store, connection, kinds.REPLY, kinds.ThreadReply(post.thread, template="help")
                    )
                    return True
                return False
            roster = await records.load_roster(self._store, connection)
            engineer = engineer_for(roster, post.author)
            existing = await records.inquiry_by_thread(connection, post.thread.key)
            if existing is None:
                return await self._new_inquiry(connection, post, channel, engineer)
            await self._follow_up(connection, post, existing, engineer)
            return True

    async def _intake(
        self, connection: AsyncConnection, post: ChannelPost, channel: Any, text: str
    ) -> Intake:
        """Where an inquiry belongs: its go-live channel's site, or (a watched channel) the site its
        text names, if any."""
        if channel is not None:
            return Intake(channel.station, late=channel.status in {"retired", "cancelled"})
        plan = await records.load_plan(connection, include_pulled=False)
        site = site_named_in(text, plan, self._config.window, post.posted_at)
        return Intake(site.station if site is not None else None, late=False)

    async def _new_inquiry(
        self, connection: AsyncConnection, post: ChannelPost, channel: Any, engineer: Any
    ) -> bool:
        command = parse_command(post.text) if post.mentions_bot else None
        asked_to_log = command is not None and command.name == "log"
        if engineer is not None and not asked_to_log:
            log.info("engineer announcement in a watched or go-live channel: not an inquiry")
            return False
        if is_thread_command(command):
            await enqueue(
                self._store, connection, kinds.REPLY, kinds.ThreadReply(post.thread, template="help")
            )
            return True
        text = command.raw_args if asked_to_log and command is not None and command.raw_args else post.text
        if not text.strip():
            text = "(empty post)"
        intake = await self._intake(connection, post, channel, text)
        site = await records.planned_site(connection, intake.station) if intake.station else None
        day = go_live_day(site, self._config.window, post.posted_at) if site is not None else None
        now = self._clock.now()
        thread = post.thread
        result = await connection.execute(
            tables.inquiries.insert().values(
                correlation_id=correlation_id_for(thread),
                platform=thread.platform,
                channel_id=thread.channel_id,
                root_message_id=thread.root_id,
                conversation_id=thread.key,
                station=intake.station,
                site_name=site.site.name if site else None,
                author_name=post.author.name,
                author_aad_id=post.author.aad_object_id,
                author_id=post.author.id or None,
                text=text,
                posted_at=post.posted_at,
                received_at=now,
                go_live_day=day,
                late=intake.late,
                logged_by_engineer=engineer is not None,
                assignment_group=self._config.tier2_group,
                escalation_level=0,
                re_routes=0,
                deleted=False,
            )
        )
        inquiry_id = result.inserted_primary_key[0]  # type: ignore[index]  # an INSERT always has one
        await enqueue(
            self._store,
            connection,
            kinds.CREATE_INCIDENT,
            kinds.Nothing(),
            inquiry_id=inquiry_id,
            dedupe_key=f"create:{inquiry_id}",
        )
        if looks_like_personal_data(text):
            await enqueue(
                self._store,
                connection,
                kinds.REPLY,
                kinds.ThreadReply(thread, template="personal_data"),
                inquiry_id=inquiry_id,
                dedupe_key=f"pii:{inquiry_id}",
            )
        log.info("inquiry %s recorded for station %s", inquiry_id, intake.station or "(not known yet)")
        return True

    async def _follow_up(
        self, connection: AsyncConnection, post: ChannelPost, inquiry: Any, engineer: Any
    ) -> None:
        command = parse_command(post.text) if post.mentions_bot else None
        if is_thread_command(command):
            request = CommandRequest(
                place=THREAD,
                platform=post.thread.platform,
                author=post.author,
                at=post.posted_at,
                thread=post.thread,
                inquiry=inquiry,
            )
            await self._dispatcher.dispatch(connection, request, command, self._clock.now())
            return
        role = "engineer" if engineer is not None else "site staff"
        where = post.thread.platform.capitalize()
        await enqueue(
            self._store,
            connection,
            kinds.COMMENT,
            kinds.Note(f"{post.author.name} ({role}) replied in {where}:\n{post.text}"),
            inquiry_id=inquiry.id,
            dedupe_key=f"comment:{post.thread.key}|{post.message_id}",
        )
        if engineer is not None and inquiry.first_response_at is None:
            await connection.execute(
                update(tables.inquiries)
                .where(tables.inquiries.c.id == inquiry.id, tables.inquiries.c.first_response_at.is_(None))
                .values(
                    first_response_at=post.posted_at,
                    first_response_by=post.author.name,
                    first_response_source=f"{post.thread.platform}_reply",
                )
            )
            await enqueue(self._store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=inquiry.id)
        if engineer is None and inquiry.state == STATE_RESOLVED:
            # A reply from the poster after resolution reopens the incident, as ServiceNow's own flow does.
            await enqueue(self._store, connection, kinds.REOPEN, kinds.Nothing(), inquiry_id=inquiry.id)

    async def on_edit(self, edit: MessageEdited) -> bool:
        """An edit in an inquiry's thread. The root post's new text replaces the inquiry's text here
        and, through a job, the incident's short description and description (the old text is kept
        nowhere); a poster who removed personal data the bot had warned about is thanked. The work
        note says that the post was edited, never what it said."""
        key = f"edit|{edit.thread.key}|{edit.message_id}|{text_fingerprint(edit.text)}"
        where = edit.thread.platform.capitalize()
        async with self._store.write() as connection:
            if not await self._first_sight(connection, key, "edit"):
                return False
            inquiry = await records.inquiry_by_thread(connection, edit.thread.key)
            if inquiry is None:
                return False
            if edit.message_id != inquiry.root_message_id:
                await enqueue(
                    self._store,
                    connection,
                    kinds.WORK_NOTE,
                    kinds.Note(
                        f"{edit.author.name} edited a reply in {where} (the reply's text is in {where})."
                    ),
                    inquiry_id=inquiry.id,
                    dedupe_key=f"worknote:{key}",
                )
                return True
            text = edit.text if edit.text.strip() else "(empty post)"
            warned = looks_like_personal_data(inquiry.text)
            await connection.execute(
                update(tables.inquiries).where(tables.inquiries.c.id == inquiry.id).values(text=text)
            )
            await enqueue(
                self._store,
                connection,
                kinds.UPDATE_DESCRIPTION,
                kinds.DescriptionUpdate(edit.author.name, where),
                inquiry_id=inquiry.id,
                dedupe_key=f"description:{key}",
            )
            if warned and not looks_like_personal_data(text):
                await enqueue(
                    self._store,
                    connection,
                    kinds.REPLY,
                    kinds.ThreadReply(edit.thread, template="personal_data_thanks"),
                    inquiry_id=inquiry.id,
                    dedupe_key=f"pii-thanks:{inquiry.id}",
                )
        return True

    async def on_delete(self, deletion: MessageDeleted) -> bool:
        key = f"delete|{deletion.thread.key}|{deletion.message_id}"
        where = deletion.thread.platform.capitalize()

        def note(part: str) -> str:
            return f"{part.capitalize()} was deleted in {where} (by {deletion.author.name})."

        return await self._note_thread_change(
            key, "delete", deletion.thread, deletion.message_id, note, mark_deleted=True
        )

    async def _note_thread_change(
        self,
        key: str,
        kind: str,
        thread: ThreadRef,
        message_id: str,
        note: Any,
        *,
        mark_deleted: bool = False,
    ) -> bool:
        """A delete in an inquiry's thread becomes a work note on its incident, once."""
        async with self._store.write() as connection:
            if not await self._first_sight(connection, key, kind):
                return False
            inquiry = await records.inquiry_by_thread(connection, thread.key)
            if inquiry is None:
                return False
            is_root = message_id == inquiry.root_message_id
            if mark_deleted and is_root:
                await connection.execute(
                    update(tables.inquiries).where(tables.inquiries.c.id == inquiry.id).values(deleted=True)
                )
            part = "the original post" if is_root else "a reply"
            await enqueue(
                self._store,
                connection,
                kinds.WORK_NOTE,
                kinds.Note(note(part)),
                inquiry_id=inquiry.id,
                dedupe_key=f"worknote:{key}",
            )
        return True
