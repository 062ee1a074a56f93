"""The go-live channel lifecycle: the reconciler's decisions recorded and carried out.

``ChannelLifecycle.tick`` runs the pure reconciler over the stored plan and channel states, records
each decision (so it is never taken twice, whatever restarts happen) and queues the channel work in
the outbox. The job handlers create/unarchive the channel (a ``ChannelDirectory``: Graph) and post
the welcome, or post the retirement summary and archive (a ``ChatPlatform``: Teams).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import views
from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.jobs import Chats, start_once
from bot.bridge.outbox import Job, JobRegistry, enqueue
from bot.clock import Clock
from bot.ports import ChannelDirectory, Message
from bot.storage import tables
from bot.storage.store import Store
from schedule.plan import window_for
from schedule.reconciler import ChannelAction, ChannelState, reconcile
from schedule.roster import duty_at
from servicenow.model import RESOLVED_STATES

log = logging.getLogger(__name__)


load_channel_states = records.load_channel_states


class ChannelLifecycle:
    def __init__(self, store: Store, clock: Clock, config: BridgeConfig, wake: Callable[[], None]) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._template = config.channel_template
        self._wake = wake
        # The periodic tick and an exact-instant tick may meet; on PostgreSQL two concurrent
        # transactions would both see a channel planned and both decide to open it.
        self._ticking = asyncio.Lock()

    async def tick(self, now: datetime | None = None) -> list[ChannelAction]:
        async with self._ticking:
            return await self._tick(now)

    async def _tick(self, now: datetime | None) -> list[ChannelAction]:
        now = now or self._clock.now()
        async with self._store.write() as connection:
            plan = await records.load_plan(connection)
            states = await load_channel_states(connection)
            actions = reconcile(plan, states, now, self._config.window, self._template)
            for action in actions:
                await self._record(connection, action, states.get(action.station), now)
        if actions:
            log.info("channel lifecycle: %s", ", ".join(f"{a.kind} {a.station}" for a in actions))
            self._wake()
        return actions

    async def upcoming_instants(self, start: datetime, end: datetime) -> list[datetime]:
        """Open and retire instants in [start, end): the scheduler adds exact-time jobs for them."""
        async with self._store.read() as connection:
            plan = await records.load_plan(connection, include_pulled=False)
        instants = []
        for entry in plan.entries:
            window = window_for(entry, self._config.window)
            instants += [at for at in (window.opens_at, window.retires_at) if start <= at < end]
        return sorted(instants)

    async def _record(
        self, connection: AsyncConnection, action: ChannelAction, state: ChannelState | None, now: datetime
    ) -> None:
        channels = tables.channels
        status = {"open": "open", "retire": "retired", "cancel": "cancelled"}.get(action.kind)
        values: dict[str, Any] = {}
        if status:
            values["status"] = status
        if action.kind == "open":
            values.update(opened_at=now, display_name=action.display_name)
        elif action.kind == "retire":
            values["retired_at"] = now
        elif action.kind == "rename":
            values["display_name"] = action.display_name
        if state is None:
            await connection.execute(
                channels.insert().values(
                    station=action.station, channel_id=action.channel_id, **{"status": "planned", **values}
                )
            )
        else:
            await connection.execute(
                update(channels).where(channels.c.station == action.station).values(**values)
            )
        generation = int(now.timestamp())
        await enqueue(
            self._store,
            connection,
            STEP_KINDS[action.kind],
            kinds.ChannelStep(action.station, action.display_name, action.name),
            dedupe_key=f"channel:{action.kind}:{action.station}:{generation}",
        )


STEP_KINDS = {
    "open": kinds.CHANNEL_OPEN,
    "retire": kinds.CHANNEL_RETIRE,
    "rename": kinds.CHANNEL_RENAME,
    "cancel": kinds.CHANNEL_CANCEL,
}


class ChannelJobs:
    def __init__(
        self, store: Store, clock: Clock, config: BridgeConfig, chats: Chats, directory: ChannelDirectory
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._chats = chats
        self._directory = directory

    def register(self, jobs: JobRegistry) -> None:
        jobs.register(kinds.CHANNEL_OPEN, self.open)
        jobs.register(kinds.CHANNEL_RETIRE, self.retire)
        jobs.register(kinds.CHANNEL_RENAME, self.rename)
        jobs.register(kinds.CHANNEL_CANCEL, self.cancel)

    async def _channel(self, station: str) -> Any:
        async with self._store.read() as connection:
            return (
                await connection.execute(select(tables.channels).where(tables.channels.c.station == station))
            ).first()

    async def _save(self, station: str, **values: Any) -> None:
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.channels).where(tables.channels.c.station == station).values(**values)
            )

    async def open(self, job: Job[kinds.ChannelStep]) -> None:
        station = job.payload.station
        row = await self._channel(station)
        if row is None or row.status != "open":
            return  # pulled or retired since the decision: nothing to open
        channel_id = row.channel_id
        if channel_id is None:
            description = f"eCheck-in go-live support for station {station}"
            channel = await self._directory.ensure_channel(job.payload.display_name or station, description)
            channel_id = channel.id
            await self._save(station, channel_id=channel_id)
        if row.welcome_activity_id is None:
            message = await self._welcome(station, key=f"welcome:{station}:{job.id}")
            thread = await start_once(self._chats["teams"], job, channel_id, message)
            await self._save(station, welcome_activity_id=thread.root_id or "posted")

    async def _welcome(self, station: str, key: str) -> Message:
        async with self._store.read() as connection:
            plan = await records.load_plan(connection)
            roster = await records.load_roster(self._store, connection)
        entry = plan.get(station)
        now = self._clock.now()
        duty = duty_at(roster, now) if roster is not None else None
        duty_lines = []
        if duty is not None:
            for role, engineer in (("Primary", duty.primary), ("Backup", duty.backup)):
                if engineer is not None:
                    duty_lines.append(f"{role}: {engineer.name} ({engineer.time_zone})")
        window_text = ""
        go_live_text = ""
        name = station
        if entry is not None:
            window = window_for(entry, self._config.window)
            zone = ZoneInfo(entry.site.time_zone)
            window_text = (
                f"{window.opens_at.astimezone(zone):%a %d %b %H:%M} to "
                f"{window.retires_at.astimezone(zone):%a %d %b %H:%M %Z}"
            )
            go_live_text = f"{entry.go_live_date:%A %d %B %Y}"
            name = entry.site.name
        view = views.WelcomeView(
            station=station,
            site_name=name,
            go_live_date_text=go_live_text,
            window_text=window_text,
            duty_lines=tuple(duty_lines),
            servicenow_url=self._config.servicenow_url,
        )
        return Message(view=view, key=key)

    async def retire(self, job: Job[kinds.ChannelStep]) -> None:
        station = job.payload.station
        row = await self._channel(station)
        if row is None or row.channel_id is None:
            return  # never created: nothing to announce or archive
        async with self._store.read() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(tables.inquiries)
                .where(tables.inquiries.c.station == station)
            )
            open_rows = (
                await connection.execute(
                    select(tables.inquiries.c.number, tables.inquiries.c.incident_url).where(
                        tables.inquiries.c.station == station,
                        tables.inquiries.c.number.is_not(None),
                        tables.inquiries.c.state.not_in(RESOLVED_STATES),
                    )
                )
            ).all()
            plan = await records.load_plan(connection)
        entry = plan.get(station)
        view = views.RetirementView(
            station=station,
            site_name=entry.site.name if entry else station,
            inquiries=int(count or 0),
            open_incidents=tuple(views.IncidentRef(r.number, r.incident_url or "") for r in open_rows),
            servicenow_url=self._config.servicenow_url,
        )
        if not job.payload.notice_posted:
            await start_once(
                self._chats["teams"], job, row.channel_id, Message(view=view, key=f"retire:{job.id}")
            )
            await _mark_notice_posted(self._store, job)
        await self._directory.archive_channel(row.channel_id)

    async def rename(self, job: Job[kinds.ChannelStep]) -> None:
        row = await self._channel(job.payload.station)
        if row is None or row.channel_id is None:
            return
        await self._directory.rename_channel(row.channel_id, job.payload.display_name or row.display_name)

    async def cancel(self, job: Job[kinds.ChannelStep]) -> None:
        row = await self._channel(job.payload.station)
        if row is None or row.channel_id is None:
            return
        if not job.payload.notice_posted:
            text = (
                "This site's go-live has been pulled from the rollout plan, so this channel is closing. "
                f"For help, please use ServiceNow: {self._config.servicenow_url}"
            )
            await start_once(
                self._chats["teams"], job, row.channel_id, Message(text=text, key=f"cancel:{job.id}")
            )
            await _mark_notice_posted(self._store, job)
        await self._directory.archive_channel(row.channel_id)


async def _mark_notice_posted(store: Store, job: Job[kinds.ChannelStep]) -> None:
    """Remember progress inside a job, so a retry does not post the same notice twice."""
    payload = kinds.CHANNEL_RETIRE.encode(job.payload)
    payload["notice_posted"] = True
    async with store.write() as connection:
        await connection.execute(
            update(tables.outbox).where(tables.outbox.c.id == job.id).values(payload=payload)
        )
