"""Outbox job handlers for an inquiry's life: the only code that calls the incident tracker and posts
into an inquiry's thread.

Every handler is safe to run twice: incident creation is idempotent by correlation id, and each card
post is remembered (its message id) as soon as the platform answers. Adapter errors arrive as the
ports' ``Transient`` / ``Permanent`` and the outbox worker turns them into a retry or an end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.outbox import GiveUp, Job, JobRegistry
from bot.bridge.render import Renderer
from bot.clock import Clock
from bot.ports import (
    ChatPlatform,
    IncidentDraft,
    IncidentRecord,
    IncidentTracker,
    Message,
    Permanent,
    ThreadRef,
)
from bot.storage import tables
from bot.storage.store import Store
from bot.views import AddWeekFormView, SiteChoice
from schedule.roster import Duty, duty_at, pick_assignee
from servicenow.model import STATE_IN_PROGRESS, STATE_NEW

log = logging.getLogger(__name__)

SHORT_DESCRIPTION_LIMIT = 160


class Chats:
    """The chat platforms the bridge posts to, by name (Teams always; Slack when configured)."""

    def __init__(self, platforms: Mapping[str, ChatPlatform]) -> None:
        self._platforms = dict(platforms)

    def __getitem__(self, platform: str) -> ChatPlatform:
        chat = self._platforms.get(platform)
        if chat is None:
            raise Permanent(f"the {platform} integration is not configured")
        return chat

    def __contains__(self, platform: object) -> bool:
        return platform in self._platforms


def short_description(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "(empty post)")
    return first if len(first) <= SHORT_DESCRIPTION_LIMIT else first[: SHORT_DESCRIPTION_LIMIT - 1] + "…"


def incident_fields(record: IncidentRecord) -> dict[str, Any]:
    return {
        "sys_id": record.sys_id,
        "number": record.number,
        "incident_url": record.url,
        "state": record.state,
        "state_label": record.state_label,
        "assignment_group": record.assignment_group,
        "assigned_to": record.assigned_to,
        "sys_mod_count": record.sys_mod_count,
        "hold_reason": record.hold_reason,
        "close_code": record.close_code,
        "close_notes": record.close_notes,
    }


def thread_of(row: Any) -> ThreadRef:
    """The thread of a stored inquiry."""
    return ThreadRef(row.platform, row.channel_id, row.root_message_id)


class InquiryJobs:
    """Handlers for the job kinds of one inquiry's life."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        tracker: IncidentTracker,
        chats: Chats,
        renderer: Renderer,
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._tracker = tracker
        self._chats = chats
        self._renderer = renderer

    def register(self, jobs: JobRegistry) -> None:
        jobs.register(kinds.CREATE_INCIDENT, self.create_incident)
        jobs.register(kinds.COMMENT, self.comment)
        jobs.register(kinds.WORK_NOTE, self.work_note)
        jobs.register(kinds.ACKNOWLEDGE, self.acknowledge)
        jobs.register(kinds.SET_GROUP, self.set_group)
        jobs.register(kinds.ASSIGN, self.assign)
        jobs.register(kinds.RESOLVE, self.resolve)
        jobs.register(kinds.REOPEN, self.reopen)
        jobs.register(kinds.UPDATE_CARD, self.update_card)
        jobs.register(kinds.REPLY, self.reply)
        jobs.register(kinds.REPLY_DIRECT, self.reply_direct)
        jobs.register(kinds.DIRECT_MESSAGE, self.direct_message)

    async def _inquiry(self, job: Job[Any]) -> Any:
        async with self._store.read() as connection:
            row = await records.inquiry_by_id(connection, job.inquiry_id) if job.inquiry_id else None
        if row is None:
            raise GiveUp("inquiry missing")
        return row

    async def _inquiry_with_incident(self, job: Job[Any]) -> Any:
        row = await self._inquiry(job)
        if row.sys_id is None:
            # Jobs of an inquiry run in order, after its create job: that one ended without an
            # incident (an operator dropped it), so this job cannot do its work either.
            raise GiveUp("the inquiry has no incident (its create job was dropped)")
        return row

    async def _save(self, inquiry_id: int, **values: Any) -> None:
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.inquiries).where(tables.inquiries.c.id == inquiry_id).values(**values)
            )

    async def _duty(self, at: datetime) -> Duty | None:
        async with self._store.read() as connection:
            roster = await records.load_roster(self._store, connection)
        return None if roster is None else duty_at(roster, at)

    async def _site_choices(self, row: Any, now: datetime) -> tuple[SiteChoice, ...]:
        """The site picker's choices, for an inquiry whose site its channel did not tell."""
        if row.station:
            return ()
        async with self._store.read() as connection:
            return await records.site_choices(connection, self._config.window, now)

    async def create_incident(self, job: Job[kinds.Nothing]) -> None:
        row = await self._inquiry(job)
        duty = await self._duty(row.posted_at)
        if row.sys_id is None:
            now = self._clock.now()
            assignee = pick_assignee(duty, now) if duty is not None else None
            draft = IncidentDraft(
                correlation_id=row.correlation_id,
                short_description=short_description(row.text),
                description=self._renderer.incident_description(row),
                caller_name=row.author_name,
                caller_aad_id=row.author_aad_id or "",
                assignment_group=self._config.tier2_group,
                correlation_display=self._config.correlation_display,
                assigned_to=assignee.servicenow_user if assignee else None,
                caller_email=row.author_email or "",
            )
            # On a job's first start nothing can have been created yet: skip the lookup round trip.
            record = await self._tracker.create_incident(draft, known_new=job.first_start)
            await self._save(row.id, **incident_fields(record))
            log.info("inquiry %s -> incident %s", row.id, record.number)
            row = await self._inquiry(job)
        if row.card_activity_id is None:
            now = self._clock.now()
            message = self._renderer.incident_message(
                row, duty, now, first_post=True, sites=await self._site_choices(row, now)
            )
            chat = self._chats[row.platform]
            thread = thread_of(row)
            posted = None
            if not job.first_start and message.key:
                # A start before may have posted the card without recording it (a crash in between).
                posted = await chat.find_posted(thread, message.key)
            if posted is None:
                posted = await chat.post_in_thread(thread, message)
            await self._save(row.id, card_activity_id=posted or "")

    async def comment(self, job: Job[kinds.Note]) -> None:
        row = await self._inquiry_with_incident(job)
        await self._tracker.add_comment(row.sys_id, job.payload.text)

    async def work_note(self, job: Job[kinds.Note]) -> None:
        row = await self._inquiry_with_incident(job)
        await self._tracker.add_work_note(row.sys_id, job.payload.text)

    async def acknowledge(self, job: Job[kinds.Acknowledgement]) -> None:
        row = await self._inquiry_with_incident(job)
        await self._tracker.add_work_note(
            row.sys_id, f"Acknowledged in {job.payload.where} by {job.payload.actor}."
        )
        if row.state == STATE_NEW:
            record = await self._tracker.set_state(row.sys_id, STATE_IN_PROGRESS)
            await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def set_group(self, job: Job[kinds.GroupChange]) -> None:
        row = await self._inquiry_with_incident(job)
        record = await self._tracker.set_assignment_group(row.sys_id, job.payload.group)
        await self._tracker.add_work_note(
            row.sys_id, f"Routed to {job.payload.group} from {job.payload.where} by {job.payload.actor}."
        )
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def assign(self, job: Job[kinds.Assignment]) -> None:
        row = await self._inquiry_with_incident(job)
        record = await self._tracker.assign_to(row.sys_id, job.payload.user)
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def resolve(self, job: Job[kinds.Resolution]) -> None:
        row = await self._inquiry_with_incident(job)
        record = await self._tracker.resolve(row.sys_id, job.payload.close_code, job.payload.close_notes)
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def reopen(self, job: Job[kinds.Nothing]) -> None:
        row = await self._inquiry_with_incident(job)
        record = await self._tracker.set_state(row.sys_id, STATE_IN_PROGRESS)
        await self._save(row.id, **incident_fields(record), resolved_at=None)
        await self._refresh_card(job)

    async def update_card(self, job: Job[kinds.Nothing]) -> None:
        await self._refresh_card(job)

    async def _refresh_card(self, job: Job[Any]) -> None:
        row = await self._inquiry(job)
        if not row.card_activity_id:
            return
        duty = await self._duty(row.posted_at)
        now = self._clock.now()
        message = self._renderer.incident_message(
            row, duty, now, first_post=False, sites=await self._site_choices(row, now)
        )
        await self._chats[row.platform].update_message(thread_of(row), row.card_activity_id, message)

    async def reply(self, job: Job[kinds.ThreadReply]) -> None:
        message = await self._reply_message(job)
        await self._chats[job.payload.thread.platform].post_in_thread(job.payload.thread, message)

    async def reply_direct(self, job: Job[kinds.DirectReply]) -> None:
        payload = job.payload
        view = AddWeekFormView(week_start=payload.form_week) if payload.form_week is not None else None
        await self._chats[payload.platform].reply_direct(
            payload.conversation_id, Message(text=payload.text, view=view)
        )

    async def direct_message(self, job: Job[kinds.DirectMessage]) -> None:
        payload = job.payload
        await self._chats[payload.platform].send_direct(payload.person, Message(text=payload.text))

    async def _reply_message(self, job: Job[kinds.ThreadReply]) -> Message:
        payload = job.payload
        if payload.text:
            return Message(text=payload.text, mentions=payload.mentions)
        template = payload.template
        now = self._clock.now()
        if template in {"duty", "help"}:
            return self._renderer.command_reply(template, await self._duty(now), now)
        if template == "personal_data":
            return Message(text=self._renderer.personal_data_warning())
        if template == "status" and job.inquiry_id is not None:
            row = await self._inquiry(job)
            return Message(text=self._renderer.status_text(row))
        raise GiveUp(f"unknown reply template {template}")
