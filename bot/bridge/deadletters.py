"""Dead letters: what was stored but cannot be processed, kept visible until an operator acts.

Two kinds, listed together: received events (``received_activities`` with ``dead_at``: processing
failed ``max_attempts`` times) and outbox jobs (``outbox`` with ``dead_at``: a permanent error, or
too many unexpected failures). Ids say which: ``activity-12``, ``job-34``. ``retry`` makes one due
again with fresh attempts; ``drop`` ends it for good (an event's payload is erased). Both are
audited. Listings carry ids, times, sources, attempts and the error reason, never message text.

When an inquiry's job dies, its thread is told (``DeadLetterNotices``), so site staff are not left
waiting for an incident number that will not come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.jobs import thread_of
from bot.bridge.outbox import Job, enqueue
from bot.clock import Clock
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

#: Jobs whose death the thread is not told about (they are the telling).
QUIET_KINDS = frozenset({kinds.REPLY.name, kinds.UPDATE_CARD.name, kinds.DIRECT_MESSAGE.name})


class UnknownDeadLetter(LookupError):
    def __init__(self, letter_id: str) -> None:
        super().__init__(letter_id)
        self.reason = f"no dead letter {letter_id!r} (ids look like activity-12 or job-34)"


@dataclass(frozen=True)
class DeadLetter:
    id: str
    received_at: datetime
    source: str
    attempts: int
    error: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "source": self.source,
            "attempts": self.attempts,
            "error": self.error,
        }


def _parse(letter_id: str) -> tuple[str, int]:
    kind, _, number = letter_id.strip().partition("-")
    if kind not in ("activity", "job") or not number.isdigit():
        raise UnknownDeadLetter(letter_id)
    return kind, int(number)


class DeadLetters:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def list(self) -> list[DeadLetter]:
        received, outbox = tables.received_activities, tables.outbox
        async with self._store.read() as connection:
            events = (
                await connection.execute(
                    select(received).where(received.c.dead_at.is_not(None), received.c.processed_at.is_(None))
                )
            ).all()
            jobs = (
                await connection.execute(
                    select(outbox).where(outbox.c.dead_at.is_not(None), outbox.c.done_at.is_(None))
                )
            ).all()
        letters = [
            DeadLetter(f"activity-{r.id}", r.received_at, r.source, r.attempts, r.last_error or "")
            for r in events
        ] + [
            DeadLetter(f"job-{r.id}", r.created_at, f"outbox:{r.kind}", r.attempts, r.last_error or "")
            for r in jobs
        ]
        return sorted(letters, key=lambda letter: letter.received_at)

    async def counts(self) -> tuple[int, int]:
        """(backlog of received events not processed yet, dead letters)."""
        received, outbox = tables.received_activities, tables.outbox
        async with self._store.read() as connection:
            backlog = await connection.scalar(
                select(func.count()).where(received.c.processed_at.is_(None), received.c.dead_at.is_(None))
            )
            dead_events = await connection.scalar(
                select(func.count()).where(received.c.dead_at.is_not(None), received.c.processed_at.is_(None))
            )
            dead_jobs = await connection.scalar(
                select(func.count()).where(outbox.c.dead_at.is_not(None), outbox.c.done_at.is_(None))
            )
        return int(backlog or 0), int(dead_events or 0) + int(dead_jobs or 0)

    async def retry(self, letter_id: str, actor: str) -> None:
        now = self._clock.now()
        await self._settle(
            letter_id,
            actor,
            "inbox.retry",
            now,
            activity={"dead_at": None, "attempts": 0, "lease_until": None},
            job={"dead_at": None, "attempts": 0, "next_attempt_at": now, "lease_until": None},
        )

    async def retry_all(self, actor: str) -> int:
        letters = await self.list()
        for letter in letters:
            await self.retry(letter.id, actor)
        return len(letters)

    async def drop(self, letter_id: str, actor: str) -> None:
        now = self._clock.now()
        await self._settle(
            letter_id,
            actor,
            "inbox.drop",
            now,
            activity={"processed_at": now, "payload": None, "last_error": "dropped by an operator"},
            job={"done_at": now, "last_error": "dropped by an operator"},
        )

    async def _settle(
        self,
        letter_id: str,
        actor: str,
        action: str,
        now: datetime,
        *,
        activity: dict[str, Any],
        job: dict[str, Any],
    ) -> None:
        """Apply ``activity`` or ``job`` values to a letter that is still dead, audited as ``action``."""
        kind, number = _parse(letter_id)
        table = tables.received_activities if kind == "activity" else tables.outbox
        finished = table.c.processed_at if kind == "activity" else table.c.done_at
        async with self._store.write() as connection:
            result = await connection.execute(
                update(table)
                .where(table.c.id == number, table.c.dead_at.is_not(None), finished.is_(None))
                .values(**(activity if kind == "activity" else job))
            )
            if result.rowcount != 1:
                raise UnknownDeadLetter(letter_id)
            await records.audit(connection, now, actor, action, letter_id)


class DeadLetterNotices:
    """Tells an inquiry's thread when one of its jobs became a dead letter."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def on_dead(self, job: Job[Any], reason: str) -> None:
        if job.inquiry_id is None or job.kind in QUIET_KINDS:
            return
        async with self._store.write() as connection:
            row = await records.inquiry_by_id(connection, job.inquiry_id)
            if row is None:
                return
            text = (
                "Something went wrong on my side with this inquiry "
                f"({'logging it in ServiceNow' if job.kind == kinds.CREATE_INCIDENT.name else job.kind.replace('_', ' ')}). "
                f"It is kept for an operator as dead letter job-{job.id}; nothing is lost. "
                "If it is urgent, please raise it in ServiceNow directly."
            )
            await enqueue(
                self._store,
                connection,
                kinds.REPLY,
                kinds.ThreadReply(thread_of(row), text),
                dedupe_key=f"dead-letter:{job.id}",
            )
