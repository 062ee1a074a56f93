"""Schedule jobs (channel lifecycle, escalations, ServiceNow polling) run by exactly one replica.

APScheduler 3.x cannot share a job store between processes, so the scheduler only runs in the
replica that holds leadership:

- PostgreSQL: a session-level advisory lock on a dedicated connection (not from the pool). The
  leader checks the connection every few seconds; if it is lost, the scheduler stops at once.
- SQLite (always a single replica): a heartbeat row; a second scheduler refuses to start while
  another one's heartbeat is fresh.

The jobs themselves are idempotent (the reconciler records its decisions, escalations claim a
unique row), so a repeated or missed tick only catches up.
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
from sqlalchemy.engine import make_url

from bot.storage.store import Store

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x60_11_7E_B1  # "golive bridge": one constant per product
HEARTBEAT_STALE = timedelta(seconds=30)
LEADER_DOCUMENT = "scheduler_leader"


# A tick still running when the next is due is skipped by design (max_instances=1); APScheduler
# would log each skip as a warning.
_QUIET_APSCHEDULER = logging.getLogger("bot.scheduling.apscheduler")
_QUIET_APSCHEDULER.setLevel(logging.ERROR)


class SchedulerRefused(RuntimeError):
    """Another scheduler already runs against this SQLite database."""


def replica_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class PostgresLeadership:
    def __init__(self, database_url: str, identity: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._identity = identity
        self._connection: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._dsn, timeout=5)
            return bool(await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self._drop()
            return False

    async def still_held(self) -> bool:
        if self._connection is None or self._connection.is_closed():
            return False
        try:
            await asyncio.wait_for(self._connection.fetchval("SELECT 1"), 5)
            return True
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await self._drop()
            return False

    async def release(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._connection.fetchval("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=2)
        self._connection = None


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
            await self._store.put_document(
                connection, LEADER_DOCUMENT, {"owner": self._identity, "heartbeat": now.isoformat()}, now
            )
        return True

    async def still_held(self) -> bool:
        return await self.try_acquire()

    async def release(self) -> None:
        async with self._store.write() as connection:
            current = await self._store.get_document(connection, LEADER_DOCUMENT)
            if current and current.get("owner") == self._identity:
                await self._store.put_document(
                    connection,
                    LEADER_DOCUMENT,
                    {"owner": None, "heartbeat": "1970-01-01T00:00:00+00:00"},
                    datetime.now(UTC),
                )


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


class ScheduleRunner:
    """Holds leadership and runs the periodic jobs plus exact-instant jobs while it does."""

    def __init__(
        self,
        leadership: SqliteLeadership | PostgresLeadership,
        jobs: list[PeriodicJob],
        *,
        exact_instants: Callable[[], Awaitable[list[tuple[str, float]]]] | None = None,
        on_exact: Callable[[], Awaitable[object]] | None = None,
        check_every_s: float = 3.0,
        refuse_if_taken: bool = False,
    ) -> None:
        self._leadership = leadership
        self._jobs = jobs
        self._exact_instants = exact_instants
        self._on_exact = on_exact
        self._check_every = check_every_s
        self._refuse_if_taken = refuse_if_taken
        self._scheduler: AsyncIOScheduler | None = None
        self._shutting_down = False
        self.is_leader = False

    def add_job(self, job: PeriodicJob) -> None:
        """Add a periodic job before ``start``."""
        self._jobs.append(job)

    async def start(self) -> None:
        """Called once at start-up; refuses (SQLite) when another scheduler is alive."""
        if await self._leadership.try_acquire():
            self._become_leader()
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
                    self._become_leader()
        finally:
            self._stop_scheduler()
            await self._leadership.release()

    def _become_leader(self) -> None:
        log.info("this replica is the scheduler leader")
        self.is_leader = True
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

    async def _refresh_exact_jobs(self) -> None:
        if self._scheduler is None or self._exact_instants is None or self._on_exact is None:
            return
        for key, delay in await self._exact_instants():
            run_at = datetime.now(UTC) + timedelta(seconds=delay)
            job_id = f"exact-{key}"
            if self._scheduler.get_job(job_id) is None:
                self._scheduler.add_job(
                    _guarded(PeriodicJob(job_id, 0, self._on_exact)),
                    DateTrigger(run_date=run_at),
                    id=job_id,
                    misfire_grace_time=300,
                )

    def stop_jobs(self) -> None:
        """Shutting down: no new ticks (leadership is released when the run task ends)."""
        self._shutting_down = True
        self._stop_scheduler()

    def _stop_scheduler(self) -> None:
        self.is_leader = False
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
