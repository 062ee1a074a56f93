"""Dead letters, on SQLite and PostgreSQL: what cannot be processed is kept, counted, listed, and can
be retried or dropped; a poisonous row never fails its neighbours in a group commit."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from sqlalchemy import select
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge.deadletters import UnknownDeadLetter
from bot.clock import FrozenClock
from bot.settings import Environment, Settings
from bot.storage import tables


@pytest.fixture
async def runtime(database_url):
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        servicenow_url="http://x.invalid",
        max_attempts=3,
    )
    app = create_app(
        settings,
        Overrides(
            clock=FrozenClock(SAMPLE_NOW),
            tracker=FakeTracker(),
            teams=FakeChat(),
            directory=FakeDirectory(),
            run_background=False,
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    yield app[RUNTIME]
    await runner.cleanup()


def message(n: int) -> dict:
    return {
        "type": "message",
        "id": str(1000 + n),
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "conversation": {"id": f"19:x@thread.tacv2;messageid={1000 + n}"},
        "text": "hello",
    }


async def test_a_poisonous_row_in_a_group_commit_fails_only_its_own_request(runtime):
    runtime.inbox.start()
    poison = {**message(99), "unserialisable": object()}  # no JSON form: the database refuses it
    results = await asyncio.gather(
        *(runtime.inbox.store(message(n)) for n in range(40)),
        runtime.inbox.store(poison),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, Exception)) == 1 and isinstance(results[-1], Exception)
    async with runtime.store.read() as connection:
        stored = (await connection.execute(select(tables.received_activities.c.dedupe_key))).all()
    assert len(stored) == 40


async def test_an_event_that_keeps_failing_becomes_a_visible_dead_letter_that_can_be_retried(
    runtime, monkeypatch
):
    failures = {"left": 10}
    real = runtime.processor._turns["teams"]

    async def flaky(payload):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("some bug")
        await real(payload)

    monkeypatch.setitem(runtime.processor._turns, "teams", flaky)
    await runtime.inbox.store(message(1))
    for _ in range(3):  # each attempt is leased and retried after backoff: make it due again at once
        await runtime.processor.drain()
        async with runtime.store.write() as connection:
            await connection.execute(tables.received_activities.update().values(lease_until=None))
    [letter] = await runtime.dead_letters.list()
    assert letter.id.startswith("activity-") and letter.source == "teams" and letter.attempts == 3
    assert letter.error == "RuntimeError" and "hello" not in json.dumps(letter.as_json())
    assert await runtime.dead_letters.counts() == (0, 1)
    assert await runtime.processor.drain() == 0  # a dead letter is not retried by itself

    failures["left"] = 0
    await runtime.dead_letters.retry(letter.id, "tester")
    assert await runtime.processor.drain() == 1
    assert await runtime.dead_letters.list() == []
    async with runtime.store.read() as connection:
        audit = (await connection.execute(select(tables.audit_log.c.action, tables.audit_log.c.detail))).all()
    assert ("inbox.retry", letter.id) in [tuple(row) for row in audit]


async def test_a_dropped_dead_letter_is_gone_and_its_payload_erased(runtime, monkeypatch):
    async def broken(payload):
        raise RuntimeError("bug")

    monkeypatch.setitem(runtime.processor._turns, "teams", broken)
    await runtime.inbox.store(message(2))
    for _ in range(3):
        await runtime.processor.drain()
        async with runtime.store.write() as connection:
            await connection.execute(tables.received_activities.update().values(lease_until=None))
    [letter] = await runtime.dead_letters.list()
    await runtime.dead_letters.drop(letter.id, "tester")
    assert await runtime.dead_letters.list() == []
    async with runtime.store.read() as connection:
        payload = await connection.scalar(select(tables.received_activities.c.payload))
    assert payload is None
    with pytest.raises(UnknownDeadLetter):
        await runtime.dead_letters.drop(letter.id, "tester")
    with pytest.raises(UnknownDeadLetter):
        await runtime.dead_letters.retry("job-x", "tester")
