"""The ingest path on SQLite and PostgreSQL: duplicates delivered at once get 2xx and make one
inquiry; two posts racing into one new thread make one inquiry and one follow-up."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import RUNTIME, Overrides, create_app
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
