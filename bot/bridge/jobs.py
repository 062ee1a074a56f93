"""Outbox job handlers: the only code that calls ServiceNow and Teams for an inquiry.

Every handler is safe to run twice: incident creation is idempotent by correlation id, and each
Teams post is remembered (card activity id) as soon as Teams answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from bot.bridge import records
from bot.bridge.inquiries import BridgeConfig
from bot.bridge.outbox import GiveUp, Job, RetryLater
from bot.bridge.render import Renderer
from bot.clock import Clock
from bot.storage import tables
from bot.storage.store import Store
from bot.teams.messenger import OutgoingMessage, TeamsMessenger, TeamsRejected, TeamsUnavailable
from schedule.roster import duty_at, pick_assignee
from servicenow.errors import IncidentNotFound, ServiceNowRejected, ServiceNowUnavailable
from servicenow.gateway import IncidentDraft, IncidentRecord, ServiceNowGateway
from servicenow.model import STATE_IN_PROGRESS, STATE_NEW

log = logging.getLogger(__name__)

SHORT_DESCRIPTION_LIMIT = 160


@dataclass
class JobContext:
    store: Store
    clock: Clock
    config: BridgeConfig
    gateway: ServiceNowGateway
    messenger: TeamsMessenger
    renderer: Renderer


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


class InquiryJobs:
    """Handlers for the job kinds of one inquiry's life."""

    def __init__(self, context: JobContext) -> None:
        self.c = context

    def handlers(self) -> dict[str, Any]:
        return {
            "create_incident": self.create_incident,
            "comment": self.comment,
            "work_note": self.work_note,
            "acknowledge": self.acknowledge,
            "set_group": self.set_group,
            "assign": self.assign,
            "resolve": self.resolve,
            "reopen": self.reopen,
            "update_card": self.update_card,
            "reply": self.reply,
            "direct_message": self.direct_message,
        }

    async def _inquiry(self, job: Job):
        async with self.c.store.read() as connection:
            row = await records.inquiry_by_id(connection, job.inquiry_id)
        if row is None:
            raise GiveUp("inquiry missing")
        return row

    async def _inquiry_with_incident(self, job: Job):
        row = await self._inquiry(job)
        if row.sys_id is None:
            raise RetryLater("incident not created yet", delay_s=1.0, count_attempt=False)
        return row

    async def _save(self, inquiry_id: int, **values: Any) -> None:
        async with self.c.store.write() as connection:
            await connection.execute(
                update(tables.inquiries).where(tables.inquiries.c.id == inquiry_id).values(**values)
            )

    async def _service_url(self, job: Job) -> str:
        url = job.payload.get("service_url")
        if url:
            return url
        async with self.c.store.read() as connection:
            place = await records.any_place(connection)
        if place is None:
            raise RetryLater("no Teams service URL known yet", delay_s=5.0)
        return place.service_url

    async def _duty(self, at):
        async with self.c.store.read() as connection:
            roster = await records.load_roster(self.c.store, connection)
        return None if roster is None else duty_at(roster, at)

    async def create_incident(self, job: Job) -> None:
        row = await self._inquiry(job)
        duty = await self._duty(row.posted_at)
        if row.sys_id is None:
            now = self.c.clock.now()
            assignee = pick_assignee(duty, now) if duty is not None else None
            draft = IncidentDraft(
                correlation_id=row.correlation_id,
                short_description=short_description(row.text),
                description=self.c.renderer.incident_description(row),
                caller_name=row.author_name,
                caller_aad_id=row.author_aad_id or "",
                assignment_group=self.c.config.tier2_group,
                correlation_display=self.c.config.correlation_display,
                assigned_to=assignee.servicenow_user if assignee else None,
            )
            # On a job's first start nothing can have been created yet: skip the lookup round trip.
            record = await servicenow_call(self.c.gateway.create_incident(draft, known_new=job.first_start))
            await self._save(row.id, **incident_fields(record))
            log.info("inquiry %s -> incident %s", row.id, record.number)
            row = await self._inquiry(job)
        if row.card_activity_id is None:
            message = self.c.renderer.incident_message(row, duty, self.c.clock.now(), first_post=True)
            activity_id = await teams_call(
                self.c.messenger.reply_in_thread(await self._service_url(job), row.conversation_id, message)
            )
            await self._save(row.id, card_activity_id=activity_id or "")

    async def comment(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        await servicenow_call(self.c.gateway.add_comment(row.sys_id, job.payload["text"]))

    async def work_note(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        await servicenow_call(self.c.gateway.add_work_note(row.sys_id, job.payload["text"]))

    async def acknowledge(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        await servicenow_call(
            self.c.gateway.add_work_note(row.sys_id, f"Acknowledged in Teams by {job.payload['actor']}.")
        )
        if row.state == STATE_NEW:
            record = await servicenow_call(self.c.gateway.set_state(row.sys_id, STATE_IN_PROGRESS))
            await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def set_group(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        record = await servicenow_call(self.c.gateway.set_assignment_group(row.sys_id, job.payload["group"]))
        await servicenow_call(
            self.c.gateway.add_work_note(
                row.sys_id,
                f"Routed to {job.payload['group']} from Teams by {job.payload.get('actor', 'an engineer')}.",
            )
        )
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def assign(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        record = await servicenow_call(self.c.gateway.assign_to(row.sys_id, job.payload["user"]))
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def resolve(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        record = await servicenow_call(
            self.c.gateway.resolve(row.sys_id, job.payload["close_code"], job.payload["close_notes"])
        )
        await self._save(row.id, **incident_fields(record))
        await self._refresh_card(job)

    async def reopen(self, job: Job) -> None:
        row = await self._inquiry_with_incident(job)
        record = await servicenow_call(self.c.gateway.set_state(row.sys_id, STATE_IN_PROGRESS))
        await self._save(row.id, **incident_fields(record), resolved_at=None)
        await self._refresh_card(job)

    async def update_card(self, job: Job) -> None:
        await self._refresh_card(job)

    async def _refresh_card(self, job: Job) -> None:
        row = await self._inquiry(job)
        if not row.card_activity_id:
            return
        duty = await self._duty(row.posted_at)
        message = self.c.renderer.incident_message(row, duty, self.c.clock.now(), first_post=False)
        await teams_call(
            self.c.messenger.update_message(
                await self._service_url(job), row.conversation_id, row.card_activity_id, message
            )
        )

    async def reply(self, job: Job) -> None:
        payload = job.payload
        message = await self._reply_message(job)
        if message is None:
            return
        await teams_call(
            self.c.messenger.reply_in_thread(
                await self._service_url(job), payload["conversation_id"], message
            )
        )

    async def direct_message(self, job: Job) -> None:
        async with self.c.store.read() as connection:
            place = await records.any_place(connection)
        if place is None:
            raise RetryLater("no Teams service URL known yet", delay_s=5.0)
        await teams_call(
            self.c.messenger.send_direct(
                place.service_url,
                job.payload["user_id"],
                OutgoingMessage(text=job.payload["text"]),
                place.tenant_id,
            )
        )

    async def _reply_message(self, job: Job) -> OutgoingMessage | None:
        payload = job.payload
        if payload.get("card"):
            return OutgoingMessage(text=payload.get("text"), card=payload["card"])
        if payload.get("text"):
            mentions = tuple(tuple(m) for m in payload.get("mentions", ()))
            return OutgoingMessage(text=payload["text"], mentions=mentions)
        template = payload.get("template")
        now = self.c.clock.now()
        if template in {"duty", "help"}:
            return self.c.renderer.command_reply(template, await self._duty(now), now)
        if template == "personal_data":
            return OutgoingMessage(text=self.c.renderer.personal_data_warning())
        if template == "status" and job.inquiry_id is not None:
            row = await self._inquiry(job)
            return OutgoingMessage(text=self.c.renderer.status_text(row))
        raise GiveUp(f"unknown reply template {template}")


async def servicenow_call(awaitable):
    """Run a gateway call in a job: unavailable -> retry later (honouring Retry-After), 4xx -> give up."""
    try:
        return await awaitable
    except ServiceNowUnavailable as error:
        raise RetryLater(
            f"ServiceNow unavailable: {type(error).__name__}", delay_s=error.retry_after
        ) from None
    except IncidentNotFound:
        raise GiveUp("incident not found in ServiceNow") from None
    except ServiceNowRejected as error:
        raise GiveUp(f"ServiceNow rejected the request (status {error.status})") from None


async def teams_call(awaitable):
    """Run a Teams post in a job: throttled or down -> retry later, rejected -> give up."""
    try:
        return await awaitable
    except TeamsUnavailable as error:
        raise RetryLater(f"Teams unavailable (status {error.status})", delay_s=error.retry_after) from None
    except TeamsRejected as error:
        raise GiveUp(f"Teams rejected the post (status {error.status}, {error.code})") from None
