"""The end-of-rotation card: enqueued once per week, posted into the management channel."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from testkit.fakes import FakeChat
from testkit.reporting import WEEK, seeded_database

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import jobkinds as kinds
from bot.clock import FrozenClock
from bot.ports import Message, Transient
from bot.settings import Settings
from bot.storage import tables
from bot.teams.cards import render_card
from bot.teams.places import TeamsPlace
from bot.teams.platform import TeamsChat

MANAGEMENT = "19:management@thread.tacv2"
NOW = datetime(2022, 5, 12, 9, 0, tzinfo=UTC)


async def start(tmp_path, aiohttp_client, chat, **settings):
    url = await seeded_database(tmp_path)
    values = {
        "env": "development",
        "database_url": url,
        "servicenow_url": "http://127.0.0.1:9",
        "management_channel_id": MANAGEMENT,
    }
    values.update(settings)
    app = create_app(Settings(**values), Overrides(run_background=False, clock=FrozenClock(NOW), teams=chat))
    await aiohttp_client(app)
    return app[RUNTIME]


async def outbox_jobs(components, kind: str = kinds.CHANNEL_NOTICE.name):
    async with components.store.read() as connection:
        return (await connection.execute(select(tables.outbox).where(tables.outbox.c.kind == kind))).all()


async def test_report_card_is_enqueued_once_and_posted_to_the_management_channel(tmp_path, aiohttp_client):
    chat = FakeChat()
    components = await start(tmp_path, aiohttp_client, chat)

    assert await components.reports.post(WEEK) is True
    assert await components.reports.post(WEEK) is False  # deduplicated by week
    jobs = await outbox_jobs(components)
    assert len(jobs) == 1 and jobs[0].dedupe_key == "rotation-report:2022-05-02"

    ran = await components.worker.drain_once()
    assert ran == 1
    [post] = chat.new_threads()
    assert post.channel_id == MANAGEMENT
    card = render_card(post.message.view)
    assert card["type"] == "AdaptiveCard"
    text = str(card)
    assert "Rotation report: week of 2022-05-02" in text
    assert "508 Atlanta" in text and "INC0000009" in text
    facts = {
        f["title"]: f["value"] for block in card["body"] if block["type"] == "FactSet" for f in block["facts"]
    }
    assert facts["Inquiries"] == "8" and facts["Open at retirement"] == "4"


async def test_nothing_is_enqueued_without_a_management_channel(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeChat(), management_channel_id="")
    assert await components.reports.post(WEEK) is False
    assert await outbox_jobs(components) == []


async def test_the_post_waits_until_a_teams_service_url_is_known(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeChat())
    teams = TeamsChat(messenger=None, places=components.places)  # type: ignore[arg-type]
    with pytest.raises(Transient, match="no Teams service URL"):
        await teams.start_thread(MANAGEMENT, Message(text="report"))
    place = TeamsPlace(
        "https://smba.example/amer/", "tenant-1", "19:team@thread.tacv2", None, "28:bot", "Go Live"
    )
    await components.places.remember(place, NOW)
    assert (await components.places.require()).service_url == "https://smba.example/amer/"


async def test_a_rotation_ends_when_its_last_channel_retires(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeChat())
    # week of 05-02: 508 retires 05-09 21:00Z, 640 05-11 00:00Z, 528A7 05-11 21:00Z (17:00 local)
    assert await components.reports.ended(datetime(2022, 5, 11, 20, 59, tzinfo=UTC)) == []
    assert await components.reports.ended(datetime(2022, 5, 11, 21, 0, tzinfo=UTC)) == [WEEK]
    # the week of 04-25 ended on 05-02, more than the 7-day catch-up ago: not posted late
    assert await components.reports.ended(NOW) == [WEEK]


async def test_periodic_check_posts_each_ended_rotation_once(tmp_path, aiohttp_client):
    components = await start(tmp_path, aiohttp_client, FakeChat())
    assert await components.reports.post_due() == [WEEK]
    assert await components.reports.post_due() == []
    assert len(await outbox_jobs(components)) == 1


async def test_periodic_check_never_misses_a_rotation_that_ended_between_two_checks(tmp_path, aiohttp_client):
    """Under a fast simulated clock two checks can be days apart: the check remembers where it was."""
    clock = FrozenClock(datetime(2022, 5, 4, 12, 0, tzinfo=UTC))
    url = await seeded_database(tmp_path)
    settings = Settings(
        env="development",
        database_url=url,
        servicenow_url="http://127.0.0.1:9",
        management_channel_id=MANAGEMENT,
    )
    app = create_app(settings, Overrides(run_background=False, clock=clock, teams=FakeChat()))
    await aiohttp_client(app)
    reports = app[RUNTIME].reports
    assert await reports.post_due() == [date(2022, 4, 25)]  # the week before ended 05-02
    clock.set(datetime(2022, 5, 20, 12, 0, tzinfo=UTC))  # 16 days later: more than the 7-day catch-up
    assert await reports.post_due() == [WEEK, date(2022, 5, 9)]
    clock.set(datetime(2022, 5, 3, 12, 0, tzinfo=UTC))  # a clock set back starts afresh, posts nothing twice
    assert await reports.post_due() == []
