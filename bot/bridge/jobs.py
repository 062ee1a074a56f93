"""Outbox job handlers for an inquiry's life: the only code that calls the incident tracker and posts
into an inquiry's thread.

Every handler is safe to run twice: incident creation is idempotent by correlation id, and each card
post is remembered (its message id) as soon as the platform answers. Adapter errors arrive as the
ports' ``Transient`` / ``Permanent`` and the outbox worker turns them into a retry or an end.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import jobkinds as kinds
from bot.bridge import plan_changes, records
from bot.bridge.config import BridgeConfig
from bot.bridge.outbox import GiveUp, Job, JobRegistry, enqueue
from bot.bridge.render import Renderer, resolution_text
from bot.clock import Clock
from bot.ports import (
    ChatPlatform,
    IncidentDraft,
    IncidentRecord,
    IncidentTracker,
    Message,
    Permanent,
    Person,
    PortError,
    ThreadRef,
    UserRef,
)
from bot.storage import tables
from bot.storage.store import Store
from bot.views import AddWeekFormView, SiteChoice
from schedule.roster import Duty, duty_at, pick_assignee
from servicenow.model import RESOLVED_STATES, STATE_IN_PROGRESS, STATE_NEW, STATE_RESOLVED

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


async def post_once(chat: ChatPlatform, job: Job[Any], thread: ThreadRef, message: Message) -> str:
    """Post in a thread unless an earlier start of this job already did: a job started before (a
    crash between posting and recording) first looks for its post."""
    if not job.first_start:
        found = await chat.find_posted(thread.channel_id, thread.root_id, message)
        if found is not None:
            log.info("job %s found its earlier post; not posting again", job.id)
            return found
    return await chat.post_in_thread(thread, message)


async def start_once(chat: ChatPlatform, job: Job[Any], channel_id: str, message: Message) -> ThreadRef:
    """Start a thread unless an earlier start of this job already did (see :func:`post_once`)."""
    if not job.first_start:
        found = await chat.find_posted(channel_id, None, message)
        if found is not None:
            log.info("job %s found its earlier post; not posting again", job.id)
            return ThreadRef(chat.platform, channel_id, found)
    return await chat.start_thread(channel_id, message)


def short_description(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "(empty post)")
    return first if len(first) <= SHORT_DESCRIPTION_LIMIT else first[: SHORT_DESCRIPTION_LIMIT - 1] + "…"


def incident_fields(record: IncidentRecord) -> dict[str, Any]:
    """The columns of an inquiry that mirror its incident, as ServiceNow holds it."""
    return {
        "sys_id": record.sys_id,
        "number": record.number,
        "incident_url": record.url,
        "state": record.state,
        "state_label": record.state_label,
        "assignment_group": record.assignment_group,
        "assigned_to": record.assigned_to,
        "assigned_to_name": record.assigned_to_name or None,
        "resolved_by_name": record.resolved_by_name or None,
        "sys_mod_count": record.sys_mod_count,
        "hold_reason": record.hold_reason,
        "close_code": record.close_code,
        "close_notes": record.close_notes,
    }


def thread_of(row: Any) -> ThreadRef:
    """The thread of a stored inquiry."""
    return ThreadRef(row.platform, row.channel_id, row.root_message_id)


def engineer_label(name: str, user_name: str) -> str:
    """How a work note names the engineer who acted: their name and their ServiceNow user name."""
    if name and user_name:
        return f"{name} ({user_name})"
    return name or user_name or "an engineer"


def refusal_note(record: IncidentRecord, field_name: str, who: str) -> str:
    """The sentence a work note adds when the instance would not record ``who`` in ``field_name``."""
    if field_name not in record.refused_fields:
        return ""
    return f" ServiceNow did not accept {who} as {field_name}, so this note records it."


@dataclass(frozen=True)
class CardContext:
    """What a card needs besides its inquiry: duty at the post, the site's zone, roster names."""

    duty: Duty | None
    zone: str | None
    names: Mapping[str, str]
    sites: tuple[SiteChoice, ...] = ()


class InquiryJobs:
    """Handlers for the job kinds of one inquiry's life.

    After every write to the incident tracker the inquiry is saved from the record the tracker
    returned, and the card's update (rendered from what was saved) is queued in the same
    transaction, so the card shows what ServiceNow holds; the work note that names the engineer is
    written after that, so the change feed never sees a change the inquiry does not already hold.
    """

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
        jobs.register(kinds.UPDATE_DESCRIPTION, self.update_description)
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

    async def _card_context(self, row: Any) -> CardContext:
        async with self._store.read() as connection:
            roster = await records.load_roster(self._store, connection)
            site = await records.planned_site(connection, row.station) if row.station else None
            # An inquiry whose channel did not tell its site (a watched Slack channel) offers a picker.
            sites = (
                ()
                if row.station
                else await records.site_choices(connection, self._config.window, self._clock.now())
            )
        return CardContext(
            duty=None if roster is None else duty_at(roster, row.posted_at),
            zone=site.time_zone if site is not None else None,
            names=records.engineer_names(roster),
            sites=sites,
        )

    def _incident_card(
        self, row: Any, context: CardContext, *, first_post: bool, followup: Any = None
    ) -> Message:
        return self._renderer.incident_message(
            row,
            context.duty,
            self._clock.now(),
            first_post=first_post,
            zone=context.zone,
            names=context.names,
            sites=context.sites,
            followup=followup,
        )

    # --- creating the incident ----------------------------------------------------------------------

    async def create_incident(self, job: Job[kinds.Nothing]) -> None:
        row = await self._inquiry(job)
        context = await self._card_context(row)
        chat = self._chats[row.platform]
        thread = thread_of(row)
        if row.sys_id is None:
            now = self._clock.now()
            assignee = pick_assignee(context.duty, now) if context.duty is not None else None
            link = row.thread_url or await self._thread_link(chat, row)
            if link and link != row.thread_url:
                await self._save(row.id, thread_url=link)
            caller = await self._caller(chat, row)
            draft = IncidentDraft(
                correlation_id=row.correlation_id,
                short_description=short_description(row.text),
                description=self._renderer.incident_description(row, link, context.zone),
                caller_name=row.author_name,
                caller_aad_id=row.author_aad_id or "",
                assignment_group=self._config.tier2_group,
                correlation_display=self._config.correlation_display,
                assigned_to=assignee.servicenow_user if assignee else None,
                caller_sys_id=caller.sys_id if caller else None,
            )
            # On a job's first start nothing can have been created yet: skip the lookup round trip.
            record = await self._tracker.create_incident(draft, known_new=job.first_start)
            await self._save(row.id, **incident_fields(record))
            log.info(
                "inquiry %s -> incident %s (caller %s)", row.id, record.number, "found" if caller else "none"
            )
            row = await self._inquiry(job)
        if row.card_activity_id is None:
            message = self._incident_card(row, context, first_post=True)
            posted = await post_once(chat, job, thread, message)
            await self._save(row.id, card_activity_id=posted or "")

    async def _thread_link(self, chat: ChatPlatform, row: Any) -> str | None:
        async with self._store.read() as connection:
            channel = await records.channel_by_id(connection, row.channel_id)
        try:
            return await chat.thread_link(thread_of(row), channel.display_name if channel else None)
        except PortError as error:
            log.info("inquiry %s: no thread link (%s)", row.id, type(error).__name__)
            return None

    async def _caller(self, chat: ChatPlatform, row: Any) -> UserRef | None:
        """The poster's user in the tracker: by the e-mail the platform knows, else by the user name
        (the UPN's part before ``@``). The platform not answering never holds the incident back."""
        person = Person(row.author_id or "", row.author_name, row.author_aad_id, platform=row.platform)
        try:
            contact = await chat.person_contact(thread_of(row), person)
        except PortError as error:
            log.info("inquiry %s: poster's contact unknown (%s)", row.id, type(error).__name__)
            contact = None
        if contact is None:
            return None
        sign_in = contact.user_principal_name or contact.email
        user_name = sign_in.partition("@")[0] if sign_in else ""
        if not (contact.email or user_name):
            return None
        try:
            return await self._tracker.find_user(email=contact.email or None, user_name=user_name or None)
        except Permanent as error:  # a value that cannot be queried: the caller stays empty
            log.info("inquiry %s: caller not looked up (%s)", row.id, error.reason)
            return None

    # --- journal ----------------------------------------------------------------------------------------

    async def comment(self, job: Job[kinds.Note]) -> None:
        row = await self._inquiry_with_incident(job)
        await self._tracker.add_comment(row.sys_id, job.payload.text)

    async def work_note(self, job: Job[kinds.Note]) -> None:
        row = await self._inquiry_with_incident(job)
        await self._tracker.add_work_note(row.sys_id, job.payload.text)

    # --- actions ------------------------------------------------------------------------------------------

    async def acknowledge(self, job: Job[kinds.Acknowledgement]) -> None:
        """In Progress, and taken by the engineer when nobody has it yet; then the note naming them."""
        row = await self._inquiry_with_incident(job)
        payload = job.payload
        record: IncidentRecord | None = None
        if row.state == STATE_NEW:
            record = await self._tracker.set_state(
                row.sys_id, STATE_IN_PROGRESS, actor=payload.actor_user or None
            )
        if not (record.assigned_to if record else row.assigned_to) and payload.actor_user:
            try:
                record = await self._tracker.assign_to(
                    row.sys_id, payload.actor_user, actor=payload.actor_user
                )
            except Permanent as error:  # not a user of the instance: acknowledged all the same
                log.info("inquiry %s: acknowledger not assigned (%s)", row.id, error.reason)
        if record is None:
            record = await self._tracker.get_incident(row.sys_id)
        await self._show(job, record)
        who = engineer_label(payload.actor, payload.actor_user)
        await self._tracker.add_work_note(
            row.sys_id,
            f"Acknowledged in {payload.where} by {who}." + refusal_note(record, "assigned_to", who),
        )

    async def set_group(self, job: Job[kinds.GroupChange]) -> None:
        row = await self._inquiry_with_incident(job)
        payload = job.payload
        record = await self._tracker.set_assignment_group(
            row.sys_id, payload.group, actor=payload.actor_user or None
        )
        await self._show(job, record)
        who = engineer_label(payload.actor, payload.actor_user)
        await self._tracker.add_work_note(
            row.sys_id, f"Routed to {payload.group} from {payload.where} by {who}."
        )

    async def assign(self, job: Job[kinds.Assignment]) -> None:
        row = await self._inquiry_with_incident(job)
        payload = job.payload
        record = await self._tracker.assign_to(row.sys_id, payload.user, actor=payload.user)
        await self._show(job, record)
        if payload.actor:
            who = engineer_label(payload.actor, payload.user or "")
            await self._tracker.add_work_note(
                row.sys_id,
                f"Taken in {payload.where} by {who}." + refusal_note(record, "assigned_to", who),
            )

    async def resolve(self, job: Job[kinds.Resolution]) -> None:
        """Resolved as the engineer; the resolution notes go to the thread with how to reopen (as a
        resolve made in ServiceNow does: the same reply, claimed under the change feed's key, so
        only one of the two is ever posted)."""
        row = await self._inquiry_with_incident(job)
        payload = job.payload
        actor_user = payload.actor_user or None
        if (row.state, row.close_code, row.close_notes) == (
            STATE_RESOLVED,
            payload.close_code,
            payload.close_notes,
        ):
            # A start before resolved it and saved the answer (then stopped before the note).
            record = await self._tracker.get_incident(row.sys_id)
            if actor_user and record.resolved_by != actor_user:
                record = replace(record, refused_fields=frozenset({"resolved_by"}))
        else:
            record = await self._tracker.resolve(
                row.sys_id, payload.close_code, payload.close_notes, resolved_by=actor_user
            )
            async with self._store.write() as connection:
                resolved_at = row.resolved_at or record.resolved_at or self._clock.now()
                await self._save_in(connection, row.id, incident_fields(record), resolved_at=resolved_at)
                if record.state in RESOLVED_STATES:
                    await enqueue(
                        self._store,
                        connection,
                        kinds.REPLY,
                        kinds.ThreadReply(
                            thread_of(row),
                            resolution_text(record.number, record.close_code, record.close_notes),
                        ),
                        inquiry_id=row.id,
                        dedupe_key=f"sync:{record.sys_id}:{record.sys_mod_count}:state",
                    )
        who = engineer_label(payload.actor, payload.actor_user)
        await self._tracker.add_work_note(
            row.sys_id, f"Resolved in {payload.where} by {who}." + refusal_note(record, "resolved_by", who)
        )

    async def reopen(self, job: Job[kinds.Nothing]) -> None:
        row = await self._inquiry_with_incident(job)
        record = await self._tracker.set_state(row.sys_id, STATE_IN_PROGRESS)
        async with self._store.write() as connection:
            await self._save_in(connection, row.id, incident_fields(record), resolved_at=None)

    async def update_description(self, job: Job[kinds.DescriptionUpdate]) -> None:
        """The post was edited: the incident's texts are replaced by the post's current text, and a
        work note says so without quoting either text."""
        row = await self._inquiry_with_incident(job)
        context = await self._card_context(row)
        record = await self._tracker.update_description(
            row.sys_id,
            short_description(row.text),
            self._renderer.incident_description(row, row.thread_url, context.zone),
        )
        await self._show(job, record)
        editor = job.payload.editor or "The poster"
        await self._tracker.add_work_note(
            row.sys_id,
            f"{editor} edited the original post in {job.payload.where}; the short description and "
            "description now hold the edited text (the earlier text is not repeated here).",
        )

    async def _show(self, job: Job[Any], record: IncidentRecord) -> None:
        """Save the incident as the tracker returned it; the card shows it next."""
        assert job.inquiry_id is not None
        async with self._store.write() as connection:
            await self._save_in(connection, job.inquiry_id, incident_fields(record))

    async def _save_in(
        self, connection: AsyncConnection, inquiry_id: int, fields: dict[str, Any], **extra: Any
    ) -> None:
        """Save an incident's fields and queue the card's update, in one transaction: the card is
        rendered from what was saved, by a job of its own (a card that cannot be updated right now
        never makes this job write to the tracker again)."""
        await connection.execute(
            update(tables.inquiries).where(tables.inquiries.c.id == inquiry_id).values(**fields, **extra)
        )
        await enqueue(self._store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=inquiry_id)

    async def update_card(self, job: Job[kinds.Nothing]) -> None:
        await self._refresh_card(job)

    async def _refresh_card(self, job: Job[Any]) -> None:
        row = await self._inquiry(job)
        if not row.card_activity_id:
            return
        context = await self._card_context(row)
        async with self._store.read() as connection:
            followup = await records.followup_for(connection, row.correlation_id)
        message = self._incident_card(row, context, first_post=False, followup=followup)
        await self._chats[row.platform].update_message(thread_of(row), row.card_activity_id, message)

    # --- replies ------------------------------------------------------------------------------------------

    async def reply(self, job: Job[kinds.ThreadReply]) -> None:
        message = await self._reply_message(job)
        await post_once(self._chats[job.payload.thread.platform], job, job.payload.thread, message)

    async def reply_direct(self, job: Job[kinds.DirectReply]) -> None:
        payload = job.payload
        view: Any = AddWeekFormView(week_start=payload.form_week) if payload.form_week is not None else None
        if payload.proposal is not None:
            view = await self._proposal_view(payload.proposal)
        await self._chats[payload.platform].reply_direct(
            payload.conversation_id, Message(text=payload.text, view=view)
        )

    async def _proposal_view(self, proposal_id: str) -> Any:
        """A plan change's preview card, from its stored row as it is now."""
        async with self._store.read() as connection:
            stored = await plan_changes.load_proposal(connection, proposal_id)
        if stored is None:
            raise GiveUp("plan change preview missing")
        return plan_changes.proposal_view(stored)

    async def direct_message(self, job: Job[kinds.DirectMessage]) -> None:
        payload = job.payload
        await self._chats[payload.platform].send_direct(payload.person, Message(text=payload.text))

    async def _reply_message(self, job: Job[kinds.ThreadReply]) -> Message:
        payload = job.payload
        if payload.text:
            view = await self._proposal_view(payload.proposal) if payload.proposal else None
            return Message(text=payload.text, mentions=payload.mentions, view=view, key=f"job:{job.id}")
        template = payload.template
        now = self._clock.now()
        if template in {"duty", "help"}:
            return self._renderer.command_reply(template, await self._duty(now), now)
        if template == "personal_data":
            return Message(text=self._renderer.personal_data_warning())
        if template == "personal_data_thanks":
            return Message(text=self._renderer.personal_data_thanks())
        if template == "status" and job.inquiry_id is not None:
            row = await self._inquiry(job)
            context = await self._card_context(row)
            return Message(text=self._renderer.status_text(row, context.names))
        raise GiveUp(f"unknown reply template {template}")
