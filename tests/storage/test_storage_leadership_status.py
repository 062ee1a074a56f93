"""Leadership is visible from every replica (the leader names itself, a follower names the leader),
and exact-instant slots are claimed: a slot runs once across a handover, and a new leader runs the
slots that came due while nobody led."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from testkit.stack import wait_for

from bot.leadership import LEADER_DOCUMENT, LeaderRecord, LeaderStatus
from bot.scheduling import (
    EXACT_INSTANT_JOB,
    PostgresLeadership,
    ScheduleRunner,
    SlotClaims,
    SqliteLeadership,
)
from bot.storage.store import Store


def runner_for(store: Store, database_url: str, name: str, **options) -> ScheduleRunner:
    identity = f"host-{name}:{os.getpid()}:{name}"
    leadership = (
        SqliteLeadership(store, identity)
        if store.dialect == "sqlite"
        else PostgresLeadership(database_url, identity, store)
    )
    return ScheduleRunner(
        leadership,
        [],
        claims=SlotClaims(store, identity),
        status=LeaderStatus(identity, store),
        check_every_s=0.1,
        **options,
    )


def until(predicate):
    async def check():
        return predicate()

    return check


async def stop(*tasks: asyncio.Task) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_leader_names_itself_and_a_follower_names_the_leader(store, database_url):
    leader, follower = runner_for(store, database_url, "a"), runner_for(store, database_url, "b")
    await leader.start()
    await follower.start()
    tasks = [asyncio.create_task(leader.run()), asyncio.create_task(follower.run())]
    try:
        mine = await leader.status.report()
        assert mine.leader and mine.leader_replica == leader.status.identity == mine.replica
        assert mine.leader_since is not None
        theirs = await follower.status.report()
        assert not theirs.leader
        assert theirs.replica == follower.status.identity
        assert theirs.leader_replica == leader.status.identity
        assert theirs.to_json()["leader"] is False
    finally:
        await stop(*tasks)


async def test_a_stale_leader_record_names_nobody(store):
    old = datetime.now(UTC) - timedelta(minutes=5)
    async with store.write() as connection:
        await store.put_document(
            connection, LEADER_DOCUMENT, LeaderRecord("gone:1:x", old, old).to_document(), old
        )
    report = await LeaderStatus("here:2:y", store).report()
    assert not report.leader and report.leader_replica is None


async def test_a_replica_that_stepped_down_does_not_name_itself_the_leader(store):
    now = datetime.now(UTC)
    async with store.write() as connection:
        await store.put_document(
            connection, LEADER_DOCUMENT, LeaderRecord("here:2:y", now, now).to_document(), now
        )
    report = await LeaderStatus("here:2:y", store).report()
    assert not report.leader and report.leader_replica is None


async def test_a_slot_is_claimed_once(store):
    first, second = SlotClaims(store, "a:1:x"), SlotClaims(store, "b:2:y")
    assert await first.claim(EXACT_INSTANT_JOB, "2022-05-02T11:00:00+00:00")
    assert not await second.claim(EXACT_INSTANT_JOB, "2022-05-02T11:00:00+00:00")
    assert await second.claim(EXACT_INSTANT_JOB, "2022-05-02T12:00:00+00:00")
    assert await first.last_slot(EXACT_INSTANT_JOB) == "2022-05-02T12:00:00+00:00"
    assert await first.last_slot("another-job") is None


async def test_a_slot_runs_once_across_a_handover_and_the_new_leader_catches_up(store, database_url):
    slots = ["2022-05-02T11:00:00+00:00"]
    runs: list[tuple[str, str]] = []

    def runner(name: str) -> ScheduleRunner:
        async def instants() -> list[tuple[str, float]]:
            return [(slot, 0.0) for slot in slots]  # all due now: what a new leader catches up

        async def on_exact() -> None:
            runs.append((name, slots[-1]))

        return runner_for(store, database_url, name, exact_instants=instants, on_exact=on_exact)

    first, second = runner("a"), runner("b")
    await first.start()
    await second.start()
    first_task = asyncio.create_task(first.run())
    second_task = asyncio.create_task(second.run())
    try:
        await wait_for(until(lambda: runs == [("a", slots[0])]), timeout=10)
        await stop(first_task)  # the leader goes away ...
        await first.close()
        slots.append("2022-05-02T12:00:00+00:00")  # ... and a slot comes due while nobody leads
        await wait_for(until(lambda: second.is_leader), timeout=10)
        await wait_for(until(lambda: len(runs) == 2), timeout=10)
        # Drained: the new leader has also tried the slot its predecessor ran (its claim failed).
        await wait_for(until(lambda: set(slots) <= second.handled_slots), timeout=10)
        assert runs == [("a", slots[0]), ("b", slots[1])]
    finally:
        await stop(first_task, second_task)
