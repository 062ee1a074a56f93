"""First-response escalation: an inquiry unanswered at the threshold gets the person on duty who is
working then @mentioned in its thread (and told directly); a second threshold brings in the delivery
lead, or another engineer on duty.

The clock starts at the post, or, for a post made when none of the day's primary, backup and
fallback is working, at the earliest start of their working hours
(:func:`schedule.first_response.first_response_clock_start`, the same instant the "picked up at"
reply names). Whom to @mention is decided when the escalation is due, from the duty in force then
(so a ``swap`` made after the post is followed): level 1 asks the backup, else the primary, else the
fallback, whoever of them is working; level 2 prefers someone other than level 1's. Nobody is ever
@mentioned outside their working hours: when nobody on duty is working at the moment an escalation
falls due, it waits until someone is (and is raised then, once).

A first response (engineer reply, Acknowledge, public comment in ServiceNow) stops the clock. Timers
are rows, not in-memory timers, so they survive restarts, and each level is claimed by a unique row
so it fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

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
from schedule.first_response import escalation_target, first_response_clock_start
from schedule.roster import Duty, DutyRoster, Engineer, duty_at, is_working, next_pickup
from servicenow.model import RESOLVED_STATES

log = logging.getLogger(__name__)


def clock_start(roster: DutyRoster | None, posted_at: datetime) -> datetime:
    """When the first-response clock of an inquiry posted at ``posted_at`` starts."""
    if roster is None:
        return posted_at
    return first_response_clock_start(duty_at(roster, posted_at), posted_at)


def duty_for_escalation(roster: DutyRoster | None, posted_at: datetime, at: datetime) -> Duty | None:
    """The duty an escalation at ``at`` speaks to: the one in force then (swaps and hand-offs
    included), else, when no roster week is in force then, the one of the post."""
    if roster is None:
        return None
    now = duty_at(roster, at)
    return now if now.chain else duty_at(roster, posted_at)


def level_target(duty: Duty | None, level: int, at: datetime) -> Engineer | None:
    """The engineer an escalation of ``level`` @mentions at ``at`` (working then), or None."""
    if duty is None:
        return None
    first = escalation_target(duty, at)
    if level == 1 or first is None:
        return first
    working = [e for e in (duty.primary, duty.backup, duty.fallback) if e is not None and is_working(e, at)]
    return next((e for e in working if e.key != first.key), first)


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

    def _levels(self) -> list[tuple[int, float]]:
        levels = [(1, self._config.first_response_minutes)]
        if self._config.second_escalation_minutes > self._config.first_response_minutes:
            levels.append((2, self._config.second_escalation_minutes))
        return levels

    async def tick(self, now: datetime | None = None) -> int:
        """Raise every escalation that is due; returns how many were raised."""
        now = now or self._clock.now()
        levels = self._levels()
        inquiries = tables.inquiries
        async with self._store.read() as connection:
            roster = await records.load_roster(self._store, connection)
            # The clock never starts before the post, so this is every inquiry that may be due.
            rows = (
                await connection.execute(
                    select(inquiries).where(
                        inquiries.c.first_response_at.is_(None),
                        inquiries.c.escalation_level < len(levels),
                        inquiries.c.posted_at <= now - timedelta(minutes=levels[0][1]),
                        inquiries.c.deleted.is_(False),
                        inquiries.c.late.is_(False),
                        (inquiries.c.state.is_(None)) | (inquiries.c.state.not_in(RESOLVED_STATES)),
                    )
                )
            ).all()
        raised = 0
        for row in rows:
            start = clock_start(roster, row.posted_at)
            for level, minutes in levels[row.escalation_level :]:
                if now < start + timedelta(minutes=minutes):
                    break
                if not await self._raise(row, level, minutes, now):
                    break
                raised += 1
        if raised:
            self._wake()
        return raised

    async def _raise(self, row: Any, level: int, minutes: float, now: datetime) -> bool:
        """Claim and announce one level; False when it is not raised now (already claimed, or
        nobody on duty is working right now but someone will be)."""
        async with self._store.write() as connection:
            roster = await records.load_roster(self._store, connection)
            duty = duty_for_escalation(roster, row.posted_at, now)
            engineer = level_target(duty, level, now)
            target: Mention | None = mention_of(engineer) if engineer is not None else None
            if level == 2 and self._lead is not None:
                target = self._lead
            if target is None and duty is not None and next_pickup(duty, now) is not None:
                return False  # nobody on duty works now: wait for the first one who does
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
            if target is None:
                text = f"This inquiry has had no response for {minutes:g} minutes and nobody is on duty to notify."
                mentions: tuple[Mention, ...] = ()
            else:
                primary = duty.primary if duty is not None else None
                busy = (
                    primary.name
                    if level == 1
                    and primary is not None
                    and engineer is not None
                    and engineer.key != primary.key
                    else None
                )
                text = views.escalation_text(target.name, minutes, busy)
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
                detail = f" (incident {row.number})" if row.number else ""
                link = f" {row.thread_url}" if row.thread_url else ""
                await enqueue(
                    self._store,
                    connection,
                    kinds.DIRECT_MESSAGE,
                    kinds.DirectMessage(
                        row.platform,
                        target,
                        f"An inquiry in {where} has had no response for {minutes:g} minutes{detail}.{link}",
                    ),
                    dedupe_key=f"escalation-direct:{row.id}:{level}",
                )
        log.info("inquiry %s escalated (level %d)", row.id, level)
        return True
