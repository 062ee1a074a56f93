"""The database adapter on SQLite and PostgreSQL: migrations, readiness, idempotent inserts,
aware UTC datetimes and the outbox's claim-once guarantee."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from testkit.stack import wait_for

from bot.bridge.outbox import Job, JobKind, JobRegistry, OutboxWorker, RetryLater, enqueue
from bot.storage import tables
from bot.storage.database import (
    DatabaseUrlError,
    async_url,
    current_revision,
    head_revision,
    is_ready,
    migrate,
)
from bot.storage.store import Store


def test_plain_urls_get_the_async_driver():
    assert async_url("sqlite:////tmp/x/golive.db").startswith("sqlite+aiosqlite:////tmp/x/golive.db")
    assert async_url("postgresql://u:p@h:5432/db") == "postgresql+asyncpg://u:p@h:5432/db"
    with pytest.raises(DatabaseUrlError):
        async_url("mysql://u@h/db")


async def test_fresh_database_is_migrated_to_head_and_ready(store):
    assert await current_revision(store.engine) == head_revision()
    ready, reason = await is_ready(store.engine)
    assert ready, reason


async def test_migrating_twice_changes_nothing(store):
    await migrate(store.engine)
    assert await current_revision(store.engine) == head_revision()


async def test_concurrent_inserts_of_one_key_record_it_once(store):
    async def insert() -> bool:
        async with store.write() as connection:
            return await store.insert_if_absent(
                connection,
                tables.inbox,
                {"dedupe_key": "conv|1", "kind": "message", "received_at": datetime.now(UTC)},
                ["dedupe_key"],
            )

    results = await asyncio.gather(*(insert() for _ in range(10)))
    assert results.count(True) == 1
    async with store.read() as connection:
        assert await connection.scalar(select(func.count()).select_from(tables.inbox)) == 1


def _activity_rows(count: int, *, first: int = 1) -> list[dict]:
    now = datetime(2022, 5, 3, 15, tzinfo=UTC)
    return [
        {"dedupe_key": f"k{n}", "source": "teams", "payload": {"id": str(n), "text": "é \u2603"},
         "received_at": now, "attempts": 0}
        for n in range(first, first + count)
    ]  # fmt: skip


def _insert_activities():
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    def statement(store: Store):
        insert = sqlite_insert if store.dialect == "sqlite" else pg_insert
        return insert(tables.received_activities).on_conflict_do_nothing(index_elements=["dedupe_key"])

    return statement


async def test_insert_many_commits_every_row_readable_at_once_and_the_same_as_a_plain_insert(store):
    statement = _insert_activities()(store)
    await asyncio.gather(
        *(store.insert_many(statement, _activity_rows(10, first=1 + 10 * i)) for i in range(5))
    )
    await store.insert_many(statement, _activity_rows(3))  # redeliveries: kept once
    async with store.read() as connection:
        rows = (await connection.execute(select(tables.received_activities))).all()
    assert sorted(int(r.dedupe_key[1:]) for r in rows) == list(range(1, 51))
    assert {r.payload["text"] for r in rows} == {"é \u2603"}
    assert all(r.received_at == datetime(2022, 5, 3, 15, tzinfo=UTC) for r in rows)
    await store.close()
    await store.insert_many(statement, _activity_rows(1, first=51))  # usable again after close
    async with store.read() as connection:
        assert await connection.scalar(select(func.count()).select_from(tables.received_activities)) == 51


async def test_insert_many_with_one_bad_row_writes_none_of_the_batch(store):
    statement = _insert_activities()(store)
    rows = _activity_rows(4)
    rows[2] = {**rows[2], "received_at": None}  # NOT NULL
    with pytest.raises(Exception, match=r"(?i)null"):
        await store.insert_many(statement, rows)
    async with store.read() as connection:
        assert await connection.scalar(select(func.count()).select_from(tables.received_activities)) == 0
    await store.close()


async def test_datetimes_come_back_aware_in_utc(store):
    eastern = timezone(timedelta(hours=-4))
    stamp = datetime(2022, 5, 3, 11, 0, tzinfo=eastern)
    async with store.write() as connection:
        await connection.execute(
            tables.inbox.insert().values(dedupe_key="k", kind="message", received_at=stamp)
        )
    async with store.read() as connection:
        value = await connection.scalar(select(tables.inbox.c.received_at))
    assert value == stamp
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(store):
    with pytest.raises(Exception, match="naive"):
        async with store.write() as connection:
            await connection.execute(
                tables.inbox.insert().values(dedupe_key="k", kind="m", received_at=datetime(2022, 5, 3))
            )


async def test_documents_round_trip_and_overwrite(store):
    now = datetime.now(UTC)
    async with store.write() as connection:
        await store.put_document(connection, "roster", {"csv": "a"}, now)
        await store.put_document(connection, "roster", {"csv": "b"}, now)
    async with store.read() as connection:
        assert await store.get_document(connection, "roster") == {"csv": "b"}
        assert await store.get_document(connection, "missing") is None


@dataclass(frozen=True)
class Count:
    n: int = 0


@dataclass(frozen=True)
class Step:
    step: str = ""


COUNT = JobKind("count", Count)
STEP = JobKind("step", Step)


def registry(kind: JobKind, handler) -> JobRegistry:
    jobs = JobRegistry()
    jobs.register(kind, handler)
    return jobs


async def test_two_workers_run_each_job_exactly_once(store):
    runs: list[int] = []

    async def handler(job: Job[Count]) -> None:
        runs.append(job.payload.n)
        await asyncio.sleep(0.01)  # simulated work: jobs stay leased while the other worker claims

    async with store.write() as connection:
        for n in range(30):
            await enqueue(store, connection, COUNT, Count(n))
    workers = [OutboxWorker(store, registry(COUNT, handler), concurrency=4) for _ in range(2)]
    await asyncio.gather(*(worker.drain_once() for worker in workers))
    assert sorted(runs) == list(range(30))


async def test_a_repeated_dedupe_key_queues_one_job(store):
    async with store.write() as connection:
        assert await enqueue(store, connection, COUNT, Count(), dedupe_key="create:1")
        assert not await enqueue(store, connection, COUNT, Count(), dedupe_key="create:1")


async def test_retry_later_keeps_the_job_and_honours_the_delay(store):
    attempts: list[datetime] = []

    async def flaky(job: Job[Count]) -> None:
        attempts.append(datetime.now(UTC))
        if len(attempts) == 1:
            raise RetryLater("upstream busy", delay_s=0.3)

    async with store.write() as connection:
        await enqueue(store, connection, COUNT, Count())
    worker = OutboxWorker(store, registry(COUNT, flaky))
    await worker.drain_once()
    assert len(attempts) == 1
    async with store.read() as connection:
        kept = (await connection.execute(select(tables.outbox))).one()
    assert kept.done_at is None and kept.attempts == 1
    assert kept.next_attempt_at >= attempts[0] + timedelta(seconds=0.3)

    # Drain until the job runs again: every earlier drain found it not due yet. (Real time passes
    # here on purpose: the delay is the rule under test.)
    async def ran_again() -> bool:
        await worker.drain_once()
        return len(attempts) == 2

    await wait_for(ran_again, timeout=10, interval=0.02)
    assert attempts[1] - attempts[0] >= timedelta(seconds=0.3)
    async with store.read() as connection:
        done = await connection.scalar(select(tables.outbox.c.done_at))
    assert done is not None


async def test_jobs_of_one_inquiry_run_in_order(store):
    order: list[str] = []

    async def record(job: Job[Step]) -> None:
        order.append(job.payload.step)

    async with store.write() as connection:
        for step in ("create", "comment", "route"):
            await enqueue(store, connection, STEP, Step(step), inquiry_id=7)
    worker = OutboxWorker(store, registry(STEP, record), concurrency=4)
    await worker.drain_once()
    assert order == ["create", "comment", "route"]


async def test_migrations_create_exactly_the_declared_schema(store):
    """No table or column exists only in the code or only in a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.tables import metadata

    # Type spellings differ between backends (JSON, timezone-aware DateTime); presence and
    # nullability must match exactly.
    cosmetic = {"modify_type", "modify_default"}

    def differences(sync_connection):
        diff = compare_metadata(MigrationContext.configure(sync_connection), metadata)
        flat = [change for entry in diff for change in (entry if isinstance(entry, list) else [entry])]
        return [change for change in flat if change[0] not in cosmetic]

    async with store.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
