"""Schedule jobs (channel lifecycle, escalations, ServiceNow polling) run by exactly one replica.

APScheduler 3.x cannot share a job store between processes, so the scheduler only runs in the
replica that holds leadership:

- PostgreSQL: a session-level advisory lock on a dedicated connection (not from the pool). The
  leader checks the connection every few seconds; if it is lost, the scheduler stops at once.
- SQLite (always a single replica): a heartbeat row; a second scheduler refuses to start while
  another one's heartbeat is fresh.

The jobs themselves are idempotent (the reconciler records its decisions, escalations claim a
unique row), so a repeated or missed tick only catches up. Exact-instant jobs (a channel's opening or
retiring instant) also claim their slot in ``schedule_runs`` before they run (:class:`SlotClaims`):
a slot runs once, whichever replica leads, and a new leader runs the slots that came due while
nobody led (those after the last claimed one), so a handover neither doubles nor skips one.

Who leads is visible everywhere (``bot.leadership``): the runner keeps this replica's
:class:`~bot.leadership.LeaderStatus`, and the leader writes its name in the leader record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.leadership import (
    HEARTBEAT_STALE,
    LEADER_DOCUMENT,
    LeaderStatus,
    announce_leader,
    save_leader_record,
    withdraw_leader,
)
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x60_11_7E_B1  # "golive bridge": one constant per product
#: The job id exact-instant slots are claimed under in ``schedule_runs``.
EXACT_INSTANT_JOB = "channel-instant"


# A tick still running when the next is due is skipped by design (max_instances=1); APScheduler
# would log each skip as a warning.
_QUIET_APSCHEDULER = logging.getLogger("bot.scheduling.apscheduler")
_QUIET_APSCHEDULER.setLevel(logging.ERROR)


class SchedulerRefused(RuntimeError):
    """Another scheduler already runs against this SQLite database."""


def replica_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class PostgresLeadership:
    """The advisory lock on a dedicated connection (named after the replica in ``pg_stat_activity``);
    with a ``store``, the holder also writes its name in the leader record on every check."""

    def __init__(self, database_url: str, identity: str, store: Store | None = None) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._identity = identity
        self._store = store
        self._connection: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self._dsn, timeout=5, server_settings={"application_name": self._identity[:63]}
                )
            acquired = bool(
                await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
            )
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self._drop()
            return False
        if acquired:
            await self._announce()
        return acquired

    async def still_held(self) -> bool:
        if self._connection is None or self._connection.is_closed():
            return False
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
            # arrives as the query ends, and a runner being stopped would then run on.
            async with asyncio.timeout(5):
                await self._connection.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self._drop()
            return False
        await self._announce()
        return True

    async def _announce(self) -> None:
        if self._store is None:
            return
        try:
            await announce_leader(self._store, self._identity)
        except (SQLAlchemyError, OSError) as error:  # the lock, not the record, is leadership
            log.warning("leader record not written (%s)", type(error).__name__)

    async def release(self) -> None:
        try:
            # While the lock is still ours, so no successor's record is cleared by mistake.
            if self._store is not None and self._connection is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await withdraw_leader(self._store, self._identity)
            if self._connection is not None and not self._connection.is_closed():
                # A check cancelled mid-query leaves the connection busy: then closing it unlocks.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await self._connection.fetchval("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
        finally:
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close(timeout=2)
        except Exception:  # a busy or broken connection: drop it hard, the session (and lock) ends
            connection.terminate()


class SqliteLeadership:
    def __init__(self, store: Store, identity: str) -> None:
        self._store = store
        self._identity = identity

    async def try_acquire(self) -> bool:
        now = datetime.now(UTC)
        async with self._store.write() as connection:
            current = await self._store.get_document(connection, LEADER_DOCUMENT)
            if current and current.get("owner") not in (None, self._identity):
                if leader_is_live(current, now):
                    return False
            await save_leader_record(self._store, connection, self._identity, now)
        return True

    async def still_held(self) -> bool:
        return await self.try_acquire()

    async def release(self) -> None:
        await withdraw_leader(self._store, self._identity)


def leader_is_live(document: dict[str, Any], now: datetime) -> bool:
    """Whether a SQLite leader document names a scheduler that is running: its heartbeat is fresh
    and its process, when on this host, still exists (also how ``golive restore`` tells a database
    in use)."""
    owner = document.get("owner")
    if not owner:
        return False
    beat = datetime.fromisoformat(document["heartbeat"])
    return now - beat < HEARTBEAT_STALE and _owner_alive(owner)


def _owner_alive(owner: str) -> bool:
    """A heartbeat from a process on this host that no longer exists (killed) is not a leader."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_s: float
    run: Callable[[], Awaitable[object]]


def _guarded(job: PeriodicJob) -> Callable[[], Awaitable[None]]:
    """Log a failing tick once with context instead of APScheduler's traceback; a cancelled tick
    (shutdown or lost leadership) is not an error."""

    async def run() -> None:
        try:
            await job.run()
        except asyncio.CancelledError:
            return
        except Exception as error:  # the next tick retries; the jobs are idempotent
            log.warning("schedule job %s failed: %s", job.name, type(error).__name__)

    return run


class SlotClaims:
    """Claimed schedule slots (``schedule_runs``): a slot's job runs only where its claim is new."""

    def __init__(self, store: Store, identity: str) -> None:
        self._store = store
        self._identity = identity[:80]

    async def claim(self, job_id: str, slot: str) -> bool:
        async with self._store.write() as connection:
            return await self._store.insert_if_absent(
                connection,
                tables.schedule_runs,
                {
                    "job_id": job_id,
                    "slot": slot,
                    "claimed_at": datetime.now(UTC),
                    "claimed_by": self._identity,
                },
                ["job_id", "slot"],
            )

    async def last_slot(self, job_id: str) -> str | None:
        """The latest slot claimed for ``job_id`` (slots are UTC ISO instants, so text order is time order)."""
        runs = tables.schedule_runs
        async with self._store.read() as connection:
            value = await connection.scalar(select(func.max(runs.c.slot)).where(runs.c.job_id == job_id))
        return None if value is None else str(value)


class ScheduleRunner:
    """Holds leadership and runs the periodic jobs plus exact-instant jobs while it does.

    ``exact_instants`` lists (slot, real seconds until it is due) pairs; each slot runs ``on_exact``
    once, after claiming it in ``claims``. A slot already due (0 s) runs at once: the catch-up of a
    new leader. This replica's leadership is kept in ``status`` for the pages that show it."""

    def __init__(
        self,
        leadership: SqliteLeadership | PostgresLeadership,
        jobs: list[PeriodicJob],
        *,
        exact_instants: Callable[[], Awaitable[list[tuple[str, float]]]] | None = None,
        on_exact: Callable[[], Awaitable[object]] | None = None,
        claims: SlotClaims | None = None,
        status: LeaderStatus | None = None,
        check_every_s: float = 3.0,
        refuse_if_taken: bool = False,
    ) -> None:
        self._leadership = leadership
        self._jobs = jobs
        self._exact_instants = exact_instants
        self._on_exact = on_exact
        self._claims = claims
        self.status = status or LeaderStatus("this-replica")
        self._check_every = check_every_s
        self._refuse_if_taken = refuse_if_taken
        self._scheduler: AsyncIOScheduler | None = None
        self._shutting_down = False
        self._slots_done: set[str] = set()

    @property
    def is_leader(self) -> bool:
        return self.status.is_leader

    @property
    def handled_slots(self) -> frozenset[str]:
        """Exact-instant slots this replica has run or found claimed by another."""
        return frozenset(self._slots_done)

    def add_job(self, job: PeriodicJob) -> None:
        """Add a periodic job before ``start``."""
        self._jobs.append(job)

    async def start(self) -> None:
        """Called once at start-up; refuses (SQLite) when another scheduler is alive."""
        if await self._leadership.try_acquire():
            await self._become_leader()
        elif self._refuse_if_taken:
            raise SchedulerRefused(
                "another Go Live Bridge scheduler is running against this SQLite database; "
                "SQLite supports one replica (use PostgreSQL for several)"
            )

    async def run(self) -> None:
        try:
            while not self._shutting_down:
                await asyncio.sleep(self._check_every)
                if self._shutting_down:
                    break
                if self.is_leader:
                    if not await self._leadership.still_held():
                        log.warning("scheduler leadership lost: stopping schedule jobs")
                        self._stop_scheduler()
                    else:
                        await self._refresh_exact_jobs()
                elif await self._leadership.try_acquire():
                    await self._become_leader()
        finally:
            self._stop_scheduler()
            await self._release()

    async def _become_leader(self) -> None:
        log.info("this replica (%s) is the scheduler leader", self.status.identity)
        self.status.became_leader()
        scheduler = AsyncIOScheduler(timezone=UTC, logger=_QUIET_APSCHEDULER)
        for job in self._jobs:
            scheduler.add_job(
                _guarded(job),
                "interval",
                seconds=job.every_s,
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=datetime.now(UTC),
            )
        scheduler.start()
        self._scheduler = scheduler
        await self._refresh_exact_jobs()  # at once: slots that came due during the handover

    async def _refresh_exact_jobs(self) -> None:
        if self._scheduler is None or self._exact_instants is None or self._on_exact is None:
            return
        try:
            instants = await self._exact_instants()
        except Exception as error:  # the next check tries again; the periodic tick still runs
            log.warning("exact-instant jobs not refreshed: %s", type(error).__name__)
            return
        for slot, delay in instants:
            job_id = f"exact-{slot}"
            if slot in self._slots_done or self._scheduler.get_job(job_id) is not None:
                continue
            self._scheduler.add_job(
                _guarded(PeriodicJob(job_id, 0, self._slot_job(slot))),
                DateTrigger(run_date=datetime.now(UTC) + timedelta(seconds=delay)),
                id=job_id,
                misfire_grace_time=300,
            )

    def _slot_job(self, slot: str) -> Callable[[], Awaitable[object]]:
        async def run() -> None:
            assert self._on_exact is not None
            claimed = self._claims is None or await self._claims.claim(EXACT_INSTANT_JOB, slot)
            self._slots_done.add(slot)
            if claimed:
                await self._on_exact()

        return run

    def stop_jobs(self) -> None:
        """Shutting down: no new ticks (leadership is released when the run task ends)."""
        self._shutting_down = True
        self._stop_scheduler()

    async def close(self) -> None:
        """Stop and release leadership, also when the run task never got to start (then its own
        clean-up never runs). Safe to call after ``run`` released it."""
        self.stop_jobs()
        await self._release()

    async def _release(self) -> None:
        try:
            await self._leadership.release()
        except Exception as error:  # shutting down: the lock ends with the session anyway
            log.warning("scheduler leadership not released cleanly (%s)", type(error).__name__)

    def _stop_scheduler(self) -> None:
        self.status.stepped_down()
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None


__all__ = [
    "ADVISORY_LOCK_KEY",
    "EXACT_INSTANT_JOB",
    "HEARTBEAT_STALE",
    "LEADER_DOCUMENT",
    "PeriodicJob",
    "PostgresLeadership",
    "ScheduleRunner",
    "SchedulerRefused",
    "SlotClaims",
    "SqliteLeadership",
    "leader_is_live",
    "replica_identity",
]
