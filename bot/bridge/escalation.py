"""First-response escalation: an inquiry unanswered at the threshold gets the backup @mentioned in its
thread (and told directly); a second threshold brings in the delivery lead.

The clock starts at the Teams post timestamp; a first response (engineer reply, Acknowledge, public
comment in ServiceNow) stops it. Timers are rows, not in-memory timers, so they survive restarts,
and each level is claimed by a unique row so it fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot import views
from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.config import BridgeConfig
from bot.bridge.jobs import thread_of
from bot.bridge.outbox import enqueue
from bot.bridge.people import mention_of
from bot.clock import Clock
from bot.ports import Mention
from bot.storage import tables
from bot.storage.store import Store
from schedule.roster import duty_at
from servicenow.model import RESOLVED_STATES

log = logging.getLogger(__name__)


class EscalationService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: BridgeConfig,
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._wake = wake
        lead = config.delivery_lead
        self._lead = Mention(lead[1], aad_object_id=lead[0]) if lead else None

    async def tick(self, now: datetime | None = None) -> int:
        """Raise every escalation that is due; returns how many were raised."""
        now = now or self._clock.now()
        raised = 0
        raised += await self._level(1, now - timedelta(minutes=self._config.first_response_minutes), now)
        if self._config.second_escalation_minutes > self._config.first_response_minutes:
            raised += await self._level(
                2, now - timedelta(minutes=self._config.second_escalation_minutes), now
            )
        if raised:
            self._wake()
        return raised

    async def _level(self, level: int, posted_before: datetime, now: datetime) -> int:
        inquiries = tables.inquiries
        async with self._store.read() as connection:
            rows = (
                await connection.execute(
                    select(inquiries).where(
                        inquiries.c.first_response_at.is_(None),
                        inquiries.c.escalation_level == level - 1,
                        inquiries.c.posted_at <= posted_before,
                        inquiries.c.deleted.is_(False),
                        inquiries.c.late.is_(False),
                        (inquiries.c.state.is_(None)) | (inquiries.c.state.not_in(RESOLVED_STATES)),
                    )
                )
            ).all()
        count = 0
        for row in rows:
            if await self._raise(row, level, now):
                count += 1
        return count

    async def _raise(self, row, level: int, now: datetime) -> bool:
        async with self._store.write() as connection:
            claimed = await self._store.insert_if_absent(
                connection,
                tables.escalations,
                {"inquiry_id": row.id, "level": level, "at": now, "notified": None},
                ["inquiry_id", "level"],
            )
            if not claimed:
                return False
            await connection.execute(
                update(tables.inquiries).where(tables.inquiries.c.id == row.id).values(escalation_level=level)
            )
            roster = await records.load_roster(self._store, connection)
            duty = duty_at(roster, row.posted_at) if roster is not None else None
            target: Mention | None = None
            if level == 1 and duty is not None:
                person = duty.backup or duty.primary
                if person is not None:
                    target = mention_of(person)
            elif level == 2:
                # The delivery lead when one is configured; otherwise the primary is called again.
                target = self._lead
                if target is None and duty is not None:
                    person = duty.primary or duty.backup
                    target = mention_of(person) if person is not None else None
            minutes = (
                self._config.first_response_minutes if level == 1 else self._config.second_escalation_minutes
            )
            if target is None:
                text = f"This inquiry has had no response for {minutes:g} minutes and nobody is on duty to notify."
                mentions: tuple[Mention, ...] = ()
            else:
                text = views.escalation_text(
                    target.name, minutes, duty.primary.name if level == 1 and duty and duty.primary else None
                )
                mentions = (target,)
            await connection.execute(
                update(tables.escalations)
                .where(tables.escalations.c.inquiry_id == row.id, tables.escalations.c.level == level)
                .values(notified=target.name if target else None)
            )
            await enqueue(
                self._store,
                connection,
                kinds.REPLY,
                kinds.ThreadReply(thread_of(row), text, mentions),
                inquiry_id=row.id,
                dedupe_key=f"escalation:{row.id}:{level}",
            )
            if target is not None:
                # Told directly as well, in case the channel is muted.
                where = f"station {row.station}" if row.station else "a go-live channel"
                await enqueue(
                    self._store,
                    connection,
                    kinds.DIRECT_MESSAGE,
                    kinds.DirectMessage(
                        row.platform,
                        target,
                        f"An inquiry in {where} has had no response for {minutes:g} minutes"
                        + (f" (incident {row.number})." if row.number else "."),
                    ),
                    dedupe_key=f"escalation-direct:{row.id}:{level}",
                )
        log.info("inquiry %s escalated (level %d)", row.id, level)
        return True
