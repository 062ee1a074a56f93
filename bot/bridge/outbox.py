"""The outbox: side effects (ServiceNow calls, Teams posts, Graph calls) written in the same
transaction as the state change that needs them, then drained by workers.

Delivery is at least once, so every job handler is idempotent (incident creation by correlation id,
card posts remembered by activity id). A job is claimed with a lease, so a crashed worker's job is
picked up again once its lease runs out. Outcomes, classified once here:

- ``Transient`` (an upstream throttled or down): retried with jittered backoff honouring its
  Retry-After, for as long as it takes; never dropped.
- ``Permanent`` (or ``GiveUp``): the job is a dead letter at once (``dead_at``): not done, not due,
  blocking the later jobs of its inquiry, listed by ``golive inbox dead-letters`` until an operator
  retries or drops it; ``on_dead`` is told, so the thread can say so.
- anything else (a bug): retried with backoff, and a dead letter after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import Permanent, Transient
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class RetryLater(Exception):
    """The job cannot run yet or failed transiently; try again after ``delay_s`` (None: backoff)."""

    def __init__(self, reason: str, delay_s: float | None = None, count_attempt: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s
        self.count_attempt = count_attempt


class GiveUp(Exception):
    """The job can never succeed; it becomes a dead letter with the reason recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


P = TypeVar("P")


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """A kind of outbox job: its stored name and the type of its payload (a dataclass)."""

    name: str
    payload: type[P]

    def encode(self, payload: P) -> dict[str, Any]:
        return msgspec.to_builtins(payload)  # type: ignore[no-any-return]

    def decode(self, raw: dict[str, Any]) -> P:
        return msgspec.convert(raw, self.payload)


@dataclass(frozen=True)
class Job(Generic[P]):
    id: int
    kind: str
    inquiry_id: int | None
    payload: P
    attempts: int
    starts: int = 1  # including this one: 1 means no worker ever started this job before

    @property
    def first_start(self) -> bool:
        return self.starts == 1


JobHandler = Callable[[Job[Any]], Awaitable[None]]


class JobRegistry:
    """The one table of job kinds and their handlers, filled by the composition root."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[JobKind[Any], JobHandler]] = {}

    def register(self, kind: JobKind[P], handler: Callable[[Job[P]], Awaitable[None]]) -> None:
        if kind.name in self._entries:
            raise ValueError(f"job kind {kind.name} is registered twice")
        self._entries[kind.name] = (kind, handler)

    def kinds(self) -> frozenset[str]:
        return frozenset(self._entries)

    def resolve(self, name: str) -> tuple[JobKind[Any], JobHandler] | None:
        return self._entries.get(name)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    store: Store,
    connection: AsyncConnection,
    kind: JobKind[P],
    payload: P,
    *,
    inquiry_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Add a job inside the caller's transaction; a repeated ``dedupe_key`` adds nothing."""
    now = utcnow()
    values = {
        "kind": kind.name,
        "payload": kind.encode(payload),
        "inquiry_id": inquiry_id,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "next_attempt_at": not_before or now,
        "attempts": 0,
        "starts": 0,
    }
    if dedupe_key is None:
        await connection.execute(tables.outbox.insert().values(**values))
        return True
    return await store.insert_if_absent(connection, tables.outbox, values, ["dedupe_key"])


def backoff_delay(attempts: int, base_s: float = 0.5, cap_s: float = 30.0) -> float:
    """Full-jitter exponential backoff."""
    return random.uniform(base_s, min(cap_s, base_s * (2 ** min(attempts, 16))))


class OutboxWorker:
    """Claims due jobs and runs them with bounded concurrency until stopped."""

    def __init__(
        self,
        store: Store,
        jobs: JobRegistry,
        *,
        busy: Callable[[], bool] = lambda: False,
        on_dead: Callable[[Job[Any], str], Awaitable[None]] | None = None,
        max_attempts: int = 8,
        concurrency: int = 4,
        poll_interval_s: float = 0.5,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._on_dead = on_dead
        self._max_attempts = max_attempts
        self._concurrency = concurrency
        self._poll = poll_interval_s
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._owner = uuid.uuid4().hex[:16]
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        # Jobs of one inquiry run one at a time and in order (comment after create, card after route).
        self._busy_inquiries: set[int] = set()
        self._stopping = False
        # New jobs are claimed between bursts of incoming activities (answering them comes first).
        self._yield_to = busy

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming and let running jobs finish (a job cut between a Teams post and its
        bookkeeping would post again after a restart)."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await asyncio.wait(list(self._running), timeout=grace_s)

    async def release_orphaned_leases(self) -> int:
        """SQLite means one process: at start-up every lease belongs to a process that died, so
        its jobs are taken back now instead of when the lease runs out."""
        if self._store.dialect != "sqlite":
            return 0
        async with self._store.write() as connection:
            result = await connection.execute(
                update(tables.outbox)
                .where(tables.outbox.c.done_at.is_(None), tables.outbox.c.lease_owner.is_not(None))
                .values(lease_owner=None, lease_until=None)
            )
        return result.rowcount

    async def run(self) -> None:
        released = await self.release_orphaned_leases()
        if released:
            log.info("took back %d jobs leased by a process that stopped", released)
        try:
            while not self._stopping:
                waited = 0.0
                while waited < 0.2 and self._yield_to():
                    await asyncio.sleep(0.005)
                    waited += 0.005
                claimed = await self._claim(self._concurrency - len(self._running))
                for job in claimed:
                    task = asyncio.create_task(self._execute(job))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                if claimed and len(self._running) < self._concurrency:
                    continue
                self._wake.clear()
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
                # arrives as the wait ends, and the loop would then never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()
            if self._running:
                await asyncio.wait(list(self._running))
        finally:
            for task in list(self._running):
                task.cancel()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    async def drain_once(self) -> int:
        """Run every due job once (tests and the CLI); returns how many ran."""
        count = 0
        while True:
            jobs = await self._claim(self._concurrency)
            if not jobs:
                return count
            await asyncio.gather(*(self._execute(job) for job in jobs))
            count += len(jobs)

    async def _claim(self, room: int) -> list[Job[dict[str, Any]]]:
        if room <= 0:
            return []
        now = utcnow()
        outbox = tables.outbox
        due = and_(
            outbox.c.done_at.is_(None),
            outbox.c.dead_at.is_(None),
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        # A job waits while an earlier job of the same inquiry is unfinished (create before
        # comment, route before card): one query instead of a look-up per candidate.
        earlier = outbox.alias("earlier")
        no_earlier_open = ~exists().where(
            earlier.c.inquiry_id == outbox.c.inquiry_id,
            earlier.c.id < outbox.c.id,
            earlier.c.done_at.is_(None),
        )
        async with self._store.read() as connection:
            rows = (
                await connection.execute(
                    select(outbox)
                    .where(due, or_(outbox.c.inquiry_id.is_(None), no_earlier_open))
                    .order_by(outbox.c.next_attempt_at, outbox.c.id)
                    .limit(room * 4)
                )
            ).all()
        jobs: list[Job[dict[str, Any]]] = []
        for row in rows:
            if len(jobs) >= room:
                break
            if row.inquiry_id is not None and (
                row.inquiry_id in self._busy_inquiries or any(j.inquiry_id == row.inquiry_id for j in jobs)
            ):
                continue
            async with self._store.write() as connection:
                result = await connection.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id, due)
                    .values(lease_owner=self._owner, lease_until=now + LEASE, starts=outbox.c.starts + 1)
                )
            if result.rowcount == 1:
                jobs.append(
                    Job(
                        row.id,
                        row.kind,
                        row.inquiry_id,
                        dict(row.payload or {}),
                        row.attempts,
                        row.starts + 1,
                    )
                )
        for job in jobs:
            if job.inquiry_id is not None:
                self._busy_inquiries.add(job.inquiry_id)
        return jobs

    async def _execute(self, stored: Job[dict[str, Any]]) -> None:
        job = stored
        attempts = job.attempts + 1
        try:
            entry = self._jobs.resolve(stored.kind)
            if entry is None:
                raise GiveUp(f"no handler for job kind {stored.kind}")
            kind, handler = entry
            try:
                payload = kind.decode(stored.payload)
            except msgspec.ValidationError:
                raise GiveUp(f"the payload of a {stored.kind} job cannot be read") from None
            await handler(
                Job(stored.id, stored.kind, stored.inquiry_id, payload, stored.attempts, stored.starts)
            )
        except Transient as error:
            delay = error.retry_after if error.retry_after is not None else self._delay(attempts)
            await self._finish(job, attempts=attempts, retry_in=delay, error=error.reason)
            log.info("job %s %s retry in %.1fs: %s", job.id, job.kind, delay, error.reason)
        except (Permanent, GiveUp) as error:
            await self._dead(job, attempts, error.reason)
        except RetryLater as retry:
            counted = attempts if retry.count_attempt else job.attempts
            if retry.count_attempt and counted >= self._max_attempts:
                await self._dead(job, counted, retry.reason)
            else:
                delay = retry.delay_s if retry.delay_s is not None else self._delay(counted)
                await self._finish(job, attempts=counted, retry_in=delay, error=retry.reason)
                log.info("job %s %s retry in %.1fs: %s", job.id, job.kind, delay, retry.reason)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug must not lose the job: retried, then a visible dead letter
            reason = f"unexpected {type(error).__name__}"
            log.exception("job %s %s failed unexpectedly (attempt %d)", job.id, job.kind, attempts)
            if attempts >= self._max_attempts:
                await self._dead(job, attempts, reason)
            else:
                await self._finish(job, attempts=attempts, retry_in=self._delay(attempts), error=reason)
        else:
            await self._finish(job, attempts=attempts)
        finally:
            if job.inquiry_id is not None:
                self._busy_inquiries.discard(job.inquiry_id)
            self._wake.set()

    async def _dead(self, job: Job[Any], attempts: int, reason: str) -> None:
        now = utcnow()
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.outbox)
                .where(tables.outbox.c.id == job.id)
                .values(
                    attempts=attempts,
                    lease_owner=None,
                    lease_until=None,
                    dead_at=now,
                    last_error=reason[:300],
                )
            )
        log.warning("job %s %s is a dead letter: %s", job.id, job.kind, reason)
        if self._on_dead is not None:
            try:
                await self._on_dead(job, reason)
            except Exception as error:  # telling the thread is a courtesy; the dead letter stands
                log.warning("dead letter notice for job %s failed (%s)", job.id, type(error).__name__)

    def _delay(self, attempts: int) -> float:
        return backoff_delay(attempts, self._backoff_base, self._backoff_cap)

    async def _finish(
        self, job: Job[Any], *, attempts: int, retry_in: float | None = None, error: str | None = None
    ) -> None:
        now = utcnow()
        values: dict[str, Any] = {"attempts": attempts, "lease_owner": None, "lease_until": None}
        if error is not None:
            values["last_error"] = error[:300]
        if retry_in is None:
            values["done_at"] = now
        else:
            values["next_attempt_at"] = now + timedelta(seconds=retry_in)
        async with self._store.write() as connection:
            await connection.execute(
                update(tables.outbox).where(tables.outbox.c.id == job.id).values(**values)
            )


async def outbox_depth(store: Store) -> tuple[int, float]:
    """Pending jobs and the age in seconds of the oldest one."""
    outbox = tables.outbox
    async with store.read() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.done_at.is_(None), outbox.c.dead_at.is_(None)
                )
            )
        ).one()
    count, oldest = row
    if not count or oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, (utcnow() - oldest).total_seconds())
