"""The end-of-rotation card: enqueued once per week, posted into the management channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rep_support import WEEK, seeded_database
from sqlalchemy import select

from bot.app import COMPONENTS, Overrides, create_app
from bot.bridge import records
from bot.bridge.outbox import Job, OutboxWorker, RetryLater
from bot.clock import FrozenClock
from bot.events import TeamsPlace
from bot.reporting.posting import (
    POST_CARD,
    handlers,
    post_due_rotation_reports,
    post_rotation_report,
    rotations_ended,
)
from bot.settings import Settings
from bot.storage import tables

MANAGEMENT = "19:management@thread.tacv2"
NOW = datetime(2022, 5, 12, 9, 0, tzinfo=UTC)


class FakeMessenger:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str, object, str | None]] = []

    async def post_new_thread(self, service_url, channel_id, message, tenant_id=None):
        self.posts.append((service_url, channel_id, message, tenant_id))
        return f"{channel_id};messageid=1", "1"

    async def close(self) -> None:
        pass


async def start(tmp_path, aiohttp_client, messenger, **settings):
    url = await seeded_database(tmp_path)
    values = {
        "env": "development",
        "database_url": url,
        "servicenow_url": "http://127.0.0.1:9",
        "management_channel_id": MANAGEMENT,
    }
    values.update(settings)
    app = create_app(
        Settings(**values), Overrides(run_background=False, clock=FrozenClock(NOW), messenger=messenger)
    )
    await aiohttp_client(app)
    return app[COMPONENTS]


async def remember_teams(components) -> None:
    place = TeamsPlace(
        "https://smba.example/amer/", "tenant-1", "19:team@thread.tacv2", None, "28:bot", "Go Live"
    )
    async with components.store.write() as connection:
        await records.remember_place(components.store, connection, place, NOW)


async def outbox_jobs(components, kind: str = POST_CARD):
    async with components.store.read() as connection:
        return (await connection.execute(select(tables.outbox).where(tables.outbox.c.kind == kind))).all()


async def test_report_card_is_enqueued_once_and_posted_to_the_management_channel(tmp_path, aiohttp_client):
    messenger = FakeMessenger()
    components = await start(tmp_path, aiohttp_client, messenger)
    await remember_teams(components)

    assert await post_rotation_report(components, WEEK) is True
    assert await post_rotation_report(components, WEEK) is False  # deduplicated by week
    jobs = await outbox_jobs(components)
    assert len(jobs) == 1 and jobs[0].dedupe_key == "rotation-report:2022-05-02"

    ran = await OutboxWorker(components.store, handlers(components)).drain_once()
    assert ran == 1
    [(service_url, channel_id, message, tenant)] = messenger.posts
    assert (service_url, channel_id, tenant) == ("https://smba.example/amer/", MANAGEMENT, "tenant-1")
    card = message.card
    assert card["type"] == "AdaptiveCard"
    text = str(card)
    assert "Rotation report: week of 2022-05-02" in text
    assert "508 Atlanta" in text and "INC0000009" in text
    facts = {
        f["title"]: f["value"] for block in card["body"] if block["type"] == "FactSet" for f in block["facts"]
    }
    assert facts["Inquiries"] == "8" and facts["Open at retirement"] == "4"


async def test_nothing_is_enqueued_without_a_management_channel(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeMessenger(), management_channel_id="")
    assert await post_rotation_report(components, WEEK) is False
    assert await outbox_jobs(components) == []


async def test_the_post_waits_until_a_teams_service_url_is_known(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeMessenger())
    job = Job(1, POST_CARD, None, {"channel_id": MANAGEMENT, "card": {"type": "AdaptiveCard"}}, 0)
    with pytest.raises(RetryLater):
        await handlers(components)[POST_CARD](job)


async def test_a_rotation_ends_when_its_last_channel_retires(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeMessenger())
    # week of 05-02: 508 retires 05-09 21:00Z, 640 05-11 00:00Z, 528A7 05-11 21:00Z (17:00 local)
    assert await rotations_ended(components, datetime(2022, 5, 11, 20, 59, tzinfo=UTC)) == []
    assert await rotations_ended(components, datetime(2022, 5, 11, 21, 0, tzinfo=UTC)) == [WEEK]
    # the week of 04-25 ended on 05-02, more than the 7-day catch-up ago: not posted late
    assert await rotations_ended(components, NOW) == [WEEK]


async def test_periodic_check_posts_each_ended_rotation_once(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeMessenger())
    assert await post_due_rotation_reports(components) == [WEEK]
    assert await post_due_rotation_reports(components) == []
    assert len(await outbox_jobs(components)) == 1
