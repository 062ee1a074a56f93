"""Only one replica runs schedule jobs: a PostgreSQL advisory lock (a lost lock stops them), and
with SQLite a second scheduler refuses to start."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest
from testkit.stack import wait_for

from bot.scheduling import (
    ADVISORY_LOCK_KEY,
    LEADER_DOCUMENT,
    PeriodicJob,
    PostgresLeadership,
    SchedulerRefused,
    ScheduleRunner,
    SqliteLeadership,
)
from bot.storage.store import Store


def leadership_for(store: Store, database_url: str, identity: str):
    if store.dialect == "sqlite":
        return SqliteLeadership(store, identity)
    return PostgresLeadership(database_url, identity)


class Observed:
    """A leadership that counts the runner's checks, so a test can wait for a number of them
    instead of sleeping: each check happens after one ``check_every_s`` of the runner's loop."""

    def __init__(self, leadership) -> None:
        self._leadership = leadership
        self.refused = 0  # attempts to acquire that found another leader
        self.lost = 0  # checks that found leadership gone

    async def try_acquire(self) -> bool:
        acquired = await self._leadership.try_acquire()
        self.refused += not acquired
        return acquired

    async def still_held(self) -> bool:
        held = await self._leadership.still_held()
        self.lost += not held
        return held

    async def release(self) -> None:
        await self._leadership.release()


async def until(check, timeout: float = 20.0):
    async def condition():
        return check()

    return await wait_for(condition, timeout=timeout, interval=0.02)


async def test_only_one_replica_holds_leadership(store, database_url):
    first = leadership_for(store, database_url, f"host-a:{os.getpid()}:1")
    second = leadership_for(store, database_url, f"host-b:{os.getpid()}:2")
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()


async def test_second_sqlite_scheduler_refuses_to_start(store, database_url):
    if store.dialect != "sqlite":
        pytest.skip("the refusal is the SQLite rule; PostgreSQL replicas wait as followers")
    leader = ScheduleRunner(SqliteLeadership(store, f"elsewhere:{os.getpid()}:1"), [], refuse_if_taken=True)
    await leader.start()
    assert leader.is_leader
    follower = ScheduleRunner(SqliteLeadership(store, f"elsewhere:{os.getpid()}:2"), [], refuse_if_taken=True)
    with pytest.raises(SchedulerRefused):
        await follower.start()
    leader._stop_scheduler()


async def test_heartbeat_of_a_killed_process_on_this_host_does_not_block_a_restart(store, database_url):
    if store.dialect != "sqlite":
        pytest.skip("SQLite heartbeat rule")
    import socket
    from datetime import UTC, datetime

    dead_pid = 2**22 + 12345  # above the default pid_max, so no process has it
    async with store.write() as connection:
        await store.put_document(
            connection,
            LEADER_DOCUMENT,
            {"owner": f"{socket.gethostname()}:{dead_pid}:x", "heartbeat": datetime.now(UTC).isoformat()},
            datetime.now(UTC),
        )
    assert await SqliteLeadership(store, f"{socket.gethostname()}:{os.getpid()}:y").try_acquire()


async def test_follower_takes_over_and_runs_jobs_when_the_leader_stops(store, database_url):
    ticks = {"a": 0, "b": 0}

    def job(name):
        async def run():
            ticks[name] += 1

        return PeriodicJob(f"tick-{name}", 0.05, run)

    leader = ScheduleRunner(
        leadership_for(store, database_url, f"host-a:{os.getpid()}:1"), [job("a")], check_every_s=0.1
    )
    watched = Observed(leadership_for(store, database_url, f"host-b:{os.getpid()}:2"))
    follower = ScheduleRunner(watched, [job("b")], check_every_s=0.1)
    await leader.start()
    await follower.start()
    tasks = [asyncio.create_task(leader.run()), asyncio.create_task(follower.run())]
    try:
        # The leader's jobs run, while the follower has tried to take over (twice after its
        # start) and been refused each time: its job never ran.
        await until(lambda: ticks["a"] > 0 and watched.refused >= 3)
        assert leader.is_leader and not follower.is_leader
        assert ticks["b"] == 0
        tasks[0].cancel()
        await asyncio.gather(tasks[0], return_exceptions=True)
        await until(lambda: follower.is_leader)
        await until(lambda: ticks["b"] > 0)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_lost_postgres_lock_stops_the_schedule_jobs(store, database_url):
    if store.dialect != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    ticks = []

    async def run():
        ticks.append(1)

    leadership = PostgresLeadership(database_url, "host-a:1:1")
    watched = Observed(leadership)
    runner = ScheduleRunner(watched, [PeriodicJob("tick", 0.05, run)], check_every_s=0.1)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        assert runner.is_leader
        await until(lambda: ticks)
        backend_pid = leadership._connection.get_server_pid()
        other_replica = await asyncpg.connect(database_url)
        try:
            await other_replica.execute("SELECT pg_terminate_backend($1)", backend_pid)

            # Another replica takes the lock the moment it is free.
            async def taken():
                return await other_replica.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)

            await wait_for(taken)
            await until(lambda: watched.lost >= 1)
            assert not runner.is_leader
            ticks_after_loss = len(ticks)
            # Three more turns of the runner's loop (0.1 s each, refused: the other replica holds
            # the lock); a job every 0.05 s would have come due before each of them.
            refused = watched.refused
            await until(lambda: watched.refused >= refused + 3)
            assert not runner.is_leader
            assert len(ticks) == ticks_after_loss
        finally:
            await other_replica.close()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
