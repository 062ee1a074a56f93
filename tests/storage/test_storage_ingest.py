"""The ingest path on SQLite and PostgreSQL: duplicates delivered at once get 2xx and make one
inquiry; two posts racing into one new thread make one inquiry and one follow-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge.ingest import ActivityProcessor
from bot.settings import Environment, Settings
from bot.storage import tables

CHANNEL = "19:5b2c4d7e3f8a4b9c0d1e2f3a4b5c6d7e@thread.tacv2"


def activity(message_id: str, root_id: str, text: str) -> dict:
    return {
        "type": "message",
        "id": message_id,
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "timestamp": "2022-05-03T15:00:00Z",
        "from": {
            "id": "29:staff",
            "name": "Pat Frontdesk",
            "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001",
        },
        "recipient": {"id": "28:bot", "name": "Go Live Bridge"},
        "conversation": {
            "id": f"{CHANNEL};messageid={root_id}",
            "isGroup": True,
            "conversationType": "channel",
        },
        "channelData": {
            "channel": {"id": CHANNEL},
            "team": {"id": "19:team@thread.tacv2"},
            "tenant": {"id": "t"},
        },
        "text": text,
    }


@pytest.fixture
async def client(aiohttp_client, database_url):
    settings = Settings(
        env=Environment.DEVELOPMENT, database_url=database_url, servicenow_url="http://127.0.0.1:9"
    )
    app = create_app(settings, Overrides(run_background=False))
    client = await aiohttp_client(app)
    async with app[RUNTIME].store.write() as connection:
        await connection.execute(
            tables.channels.insert().values(station="508", channel_id=CHANNEL, status="open")
        )
    return client


async def inquiries(client):
    await client.app[RUNTIME].processor.drain()
    async with client.app[RUNTIME].store.read() as connection:
        return (await connection.execute(select(tables.inquiries))).all()


async def received(client):
    async with client.app[RUNTIME].store.read() as connection:
        return (await connection.execute(select(tables.received_activities))).all()


async def test_duplicates_delivered_at_once_make_one_inquiry(client):
    body = activity("1651590000100", "1651590000100", "Kiosk error")
    responses = await asyncio.gather(*(client.post("/api/messages", json=body) for _ in range(8)))
    assert all(200 <= response.status < 300 for response in responses)
    assert len(await received(client)) == 1
    assert len(await inquiries(client)) == 1


async def test_activity_is_stored_before_the_answer_and_its_payload_dropped_once_processed(client):
    response = await client.post(
        "/api/messages", json=activity("1651590000300", "1651590000300", "Stored first")
    )
    assert response.status == 201
    stored = await received(client)
    assert len(stored) == 1 and stored[0].processed_at is None
    assert stored[0].payload["text"] == "Stored first"
    assert len(await inquiries(client)) == 1  # processing happens after the answer
    stored = await received(client)
    assert stored[0].processed_at is not None and stored[0].payload is None


async def test_two_posts_racing_into_one_new_thread_make_one_inquiry(client):
    first = activity("1651590000200", "1651590000200", "Root post")
    second = activity("1651590000201", "1651590000200", "Reply in the same thread")
    responses = await asyncio.gather(*(client.post("/api/messages", json=b) for b in (first, second)))
    assert all(200 <= response.status < 300 for response in responses)
    assert len(await inquiries(client)) == 1


async def test_an_event_claimed_by_a_process_that_died_is_taken_back_at_start_on_sqlite(client, database_url):
    """A SIGKILL between claiming an event and finishing it leaves a 60 s lease. SQLite runs one
    serving process, so the next start takes the event back at once; PostgreSQL replicas may still
    be working on theirs, so there the lease runs out instead."""
    runtime = client.app[RUNTIME]
    response = await client.post(
        "/api/messages", json=activity("1651590000500", "1651590000500", "Claimed then killed")
    )
    assert response.status == 201
    async with runtime.store.write() as connection:  # what the killed process's claim left behind
        await connection.execute(
            tables.received_activities.update().values(
                lease_until=datetime.now(UTC) + timedelta(seconds=60), attempts=1
            )
        )

    released = await runtime.processor.release_orphaned_leases()
    await runtime.processor.drain()

    if runtime.store.dialect == "sqlite":
        assert released == 1
        assert [row.text for row in await inquiries(client)] == ["Claimed then killed"]
    else:
        assert released == 0
        assert await inquiries(client) == []


async def test_stopping_finishes_the_event_in_hand_and_gives_back_the_rest_of_its_claim(client):
    runtime = client.app[RUNTIME]
    for index in range(3):
        body = activity(f"165159000060{index}", f"165159000060{index}", f"Stop {index}")
        assert (await client.post("/api/messages", json=body)).status == 201
    started, finish = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def slow_turn(payload: dict) -> None:
        seen.append(payload["text"])
        started.set()
        await finish.wait()

    processor = ActivityProcessor(runtime.store, {"teams": slow_turn})
    running = asyncio.create_task(processor.run())
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(processor.stop(grace_s=10))
    finish.set()
    await asyncio.wait_for(stopping, 15)
    await asyncio.wait_for(running, 5)

    assert seen == ["Stop 0"]
    rows = {row.id: row for row in await received(client)}
    first, *rest = sorted(rows)
    assert rows[first].processed_at is not None
    assert [(rows[i].processed_at, rows[i].lease_until, rows[i].attempts) for i in rest] == [
        (None, None, 0)
    ] * 2
