"""Outbox job handlers for monitoring alerts: the only code that calls the incident tracker and posts
in the alert channel for them.

- ``alert_sync`` brings one alert row (a group with its own incident, or a storm) up to date: creates
  the incident when it has none, adds the work note that is due (``alert_views.note_text``: a
  recovery at once, repeats at most every 10 minutes), and posts or updates the row's card on each
  platform (Teams always; Slack when configured), with its follow-up issue when one was asked for
  (``bot.bridge.followups``). It reconciles from the row, so running it twice, or late, does
  nothing twice; many alerts arriving while one is queued share it.
- ``alert_acknowledge`` / ``alert_route``: the engineer's action in ServiceNow (a work note naming
  them; the state moves to In Progress; the group changes).
- ``alert_reply``: a reply in the thread of the row's post on one platform ("being handled", an
  escalation's @mention); it waits until the post exists.

Two jobs of one row never run at once: ``alert_sync`` holds a lease on the row (``lease_until``), and
a second one waits (``RetryLater``) instead of posting a second card. Incident creation is idempotent
by correlation id, and after a start that may have reached ServiceNow it looks before creating
(``incident_tries``). A top-level post has no key to look for afterwards (Teams' ``find_posted``
finds nothing), so a crash between the post and recording its id can post twice, as a channel
notice can. Errors: the ports' ``Transient`` (retried) and ``Permanent`` (a dead letter), as every
outbox handler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update

from bot.bridge import alert_views, records
from bot.bridge import jobkinds as kinds
from bot.bridge.alerts import NOTE_INTERVAL, AlertSettings, storm_members
from bot.bridge.config import BridgeConfig
from bot.bridge.jobs import Chats
from bot.bridge.outbox import GiveUp, Job, JobRegistry, RetryLater, utcnow
from bot.clock import Clock
from bot.ports import ChannelDirectory, IncidentDraft, IncidentTracker, Message, Platform, ThreadRef
from bot.storage import tables
from bot.storage.store import Store
from servicenow.model import STATE_IN_PROGRESS, STATE_NEW

log = logging.getLogger(__name__)

LEASE: Final = timedelta(seconds=60)
# How long a reply waits for its alert's post before it becomes a dead letter.
POST_WAIT: Final = timedelta(hours=1)
CHANNEL_DOCUMENT: Final = "alert-channel:{platform}"
CHANNEL_DESCRIPTION: Final = (
    "Monitoring alerts (Sentry, Datadog, PagerDuty, Bugsnag), posted by Go Live Bridge."
)


class AlertJobs:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        settings: AlertSettings,
        tracker: IncidentTracker,
        chats: Chats,
        directory: ChannelDirectory,
        platforms: tuple[Platform, ...],
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._settings = settings
        self._tracker = tracker
        self._chats = chats
        self._directory = directory
        self._platforms = platforms

    def register(self, jobs: JobRegistry) -> None:
        jobs.register(kinds.ALERT_SYNC, self.sync)
        jobs.register(kinds.ALERT_ACKNOWLEDGE, self.acknowledge)
        jobs.register(kinds.ALERT_ROUTE, self.route)
        jobs.register(kinds.ALERT_REPLY, self.reply)

    # ---- rows -------------------------------------------------------------------------------------

    async def _row(self, alert_id: int) -> Any:
        async with self._store.read() as connection:
            row = (
                await connection.execute(select(tables.alerts).where(tables.alerts.c.id == alert_id))
            ).first()
        if row is None:
            raise GiveUp("alert missing")
        return row

    async def _save(self, alert_id: int, **values: Any) -> None:
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.alerts).where(tables.alerts.c.id == alert_id).values(**values)
            )

    @asynccontextmanager
    async def _exclusive(self, alert_id: int) -> AsyncIterator[None]:
        """Hold the row's lease for one sync; a second sync of the row waits for it."""
        alerts = tables.alerts
        now = self._now()
        async with self._store.write() as connection:
            claimed = await connection.execute(
                update(alerts)
                .where(
                    alerts.c.id == alert_id,
                    alerts.c.lease_until.is_(None) | (alerts.c.lease_until < now),
                )
                .values(lease_until=now + LEASE, sync_pending=False)
            )
        if claimed.rowcount != 1:
            raise RetryLater("another job of this alert is running", delay_s=0.5, count_attempt=False)
        try:
            yield
        finally:
            await self._save(alert_id, lease_until=None)

    def _now(self) -> datetime:
        # Leases are about processes, so they run on the wall clock like the outbox's.
        return utcnow()

    # ---- alert_sync -------------------------------------------------------------------------------

    async def sync(self, job: Job[kinds.AlertRef]) -> None:
        alert_id = job.payload.alert_id
        async with self._exclusive(alert_id):
            row = await self._row(alert_id)
            if row.storm_id is not None:
                return  # a storm's group: its storm's sync shows it
            if row.sys_id is None:
                row = await self._create_incident(row)
            row = await self._note_if_due(row)
            for platform in self._platforms:
                row = await self._post(platform, row)

    async def _members(self, row: Any, since: datetime | None = None) -> list[Any]:
        async with self._store.read() as connection:
            return await storm_members(connection, row, since=since)

    async def _create_incident(self, row: Any) -> Any:
        members = await self._members(row)
        await self._save(row.id, incident_tries=row.incident_tries + 1)
        impact, urgency = alert_views.priority(row.level)
        draft = IncidentDraft(
            correlation_id=row.correlation_id,
            short_description=alert_views.short_description(row),
            description=alert_views.incident_description(row, members, self._settings.max_new_per_minute),
            caller_name=alert_views.source_name(row.source),
            caller_aad_id="",
            assignment_group=row.assignment_group or self._settings.group,
            category="software",
            contact_type="monitoring",
            correlation_display=self._config.correlation_display,
            impact=impact,
            urgency=urgency,
        )
        # Only a row no earlier start tried can skip the look-up before creating.
        record = await self._tracker.create_incident(draft, known_new=row.incident_tries == 0)
        alerts = tables.alerts
        async with self._store.write() as connection:
            # The description covered every alert so far: notes count from here.
            await connection.execute(
                update(alerts)
                .where(alerts.c.id == row.id)
                .values(
                    sys_id=record.sys_id,
                    number=record.number,
                    incident_url=record.url,
                    incident_state=record.state,
                    incident_group=record.assignment_group,
                    noted_count=row.count,
                    noted_state=row.state,
                    version=alerts.c.version + 1,
                )
            )
        log.info("alert %s -> incident %s", row.id, record.number)
        return await self._row(row.id)

    async def _note_if_due(self, row: Any) -> Any:
        now = self._clock.now()
        since = row.last_note_at
        immediate = row.state in alert_views.NOTED_AT_ONCE and row.state != row.noted_state
        repeats_due = row.count > row.noted_count and (since is None or now - since >= NOTE_INTERVAL)
        if not immediate and not repeats_due:
            return row  # within the 10 minutes: the leader's tick queues this sync again after them
        since = since or row.opened_at
        note = alert_views.note_text(row, await self._members(row, since), since)
        if note is None:
            return row
        await self._tracker.add_work_note(row.sys_id, note)
        await self._save(row.id, noted_state=row.state, noted_count=row.count, last_note_at=now)
        return await self._row(row.id)

    async def _channel(self, platform: Platform) -> str:
        """The alert channel's id on ``platform`` (Teams: found or created once, then remembered)."""
        if platform != "teams":
            # Slack's chat.postMessage takes a channel name where an id is expected.
            return self._settings.slack_channel
        name = self._settings.teams_channel
        document = CHANNEL_DOCUMENT.format(platform=platform)
        async with self._store.read() as connection:
            known = await self._store.get_document(connection, document)
        if isinstance(known, dict) and known.get("name") == name and known.get("id"):
            return str(known["id"])
        channel = await self._directory.ensure_channel(name, CHANNEL_DESCRIPTION)
        async with self._store.write() as connection:
            await self._store.put_document(
                connection, document, {"name": name, "id": channel.id}, self._clock.now()
            )
        return channel.id

    async def _post(self, platform: Platform, row: Any) -> Any:
        message_id = getattr(row, f"{platform}_message_id")
        posted = getattr(row, f"posted_{platform}_version")
        if message_id is not None and posted >= row.version:
            return row
        members = await self._members(row)
        async with self._store.read() as connection:
            followup = await records.followup_for(connection, row.correlation_id)
        message = alert_views.card_message(row, members, self._config, followup)
        chat = self._chats[platform]
        if message_id is None:
            channel = getattr(row, f"{platform}_channel_id") or await self._channel(platform)
            thread = await chat.start_thread(channel, message)
            await self._save(
                row.id,
                **{
                    f"{platform}_channel_id": thread.channel_id,
                    f"{platform}_message_id": thread.root_id,
                    f"posted_{platform}_version": row.version,
                },
            )
        else:
            channel = getattr(row, f"{platform}_channel_id")
            await chat.update_message(ThreadRef(platform, channel, message_id), message_id, message)
            await self._save(row.id, **{f"posted_{platform}_version": row.version})
        return await self._row(row.id)

    # ---- engineers' actions -----------------------------------------------------------------------

    async def _with_incident(self, alert_id: int) -> Any:
        row = await self._row(alert_id)
        if row.sys_id is None:
            raise RetryLater("the alert's incident is being created", delay_s=1.0, count_attempt=False)
        return row

    async def acknowledge(self, job: Job[kinds.AlertAction]) -> None:
        row = await self._with_incident(job.payload.alert_id)
        await self._tracker.add_work_note(
            row.sys_id,
            f"Alert acknowledged in {job.payload.where} by {job.payload.actor}: the issue is being handled.",
        )
        if row.incident_state in (None, STATE_NEW):
            record = await self._tracker.set_state(row.sys_id, STATE_IN_PROGRESS)
            await self._save(row.id, incident_state=record.state)

    async def route(self, job: Job[kinds.AlertAction]) -> None:
        row = await self._with_incident(job.payload.alert_id)
        group = job.payload.group or row.assignment_group
        if group is None:
            raise GiveUp("a route job without a group")
        record = await self._tracker.set_assignment_group(row.sys_id, group)
        await self._tracker.add_work_note(
            row.sys_id, f"Routed to {group} from {job.payload.where} by {job.payload.actor}."
        )
        await self._save(row.id, incident_group=record.assignment_group, incident_state=record.state)

    async def reply(self, job: Job[kinds.AlertReply]) -> None:
        payload = job.payload
        row = await self._row(payload.alert_id)
        message_id = getattr(row, f"{payload.platform}_message_id", None)
        if message_id is None:
            if self._clock.now() - row.received_at > POST_WAIT:
                raise GiveUp("the alert's post never appeared")  # a dead letter an operator can see
            raise RetryLater("the alert's post is not there yet", delay_s=2.0, count_attempt=False)
        channel = getattr(row, f"{payload.platform}_channel_id")
        thread = ThreadRef(payload.platform, channel, message_id)
        await self._chats[payload.platform].post_in_thread(
            thread, Message(text=payload.text, mentions=payload.mentions)
        )


__all__ = ["AlertJobs"]
