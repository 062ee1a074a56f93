"""Hand-off notices (bot/bridge/handoff.py): each duty hand-off puts one notice into every open
go-live channel, never into retired, cancelled or planned ones, however often the tick runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from testkit.fakes import FakeChat
from testkit.stack import wait_for

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.handoff import WATERMARK, HandoffNotices
from bot.bridge.jobs import Chats
from bot.bridge.notices import ChannelNotices
from bot.bridge.outbox import Job
from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from bot.teams.cards import render_card
from bot.views import HandoffView
from schedule.sample import sample_roster_csv

TUESDAY = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
ROSA_COVERS = datetime(2022, 5, 6, 7, 0, tzinfo=UTC)  # Friday 00:00 in Phoenix: Rosa's fallback day starts
ROSA_DONE = datetime(2022, 5, 7, 7, 0, tzinfo=UTC)  # and ends
WEEK_TWO = datetime(2022, 5, 9, 5, 0, tzinfo=UTC)  # Monday 00:00 in Chicago: Marcus takes over from Jane
CHANNELS = {
    "508": ("19:open-508@thread.tacv2", "open"),
    "528A7": ("19:open-528a7@thread.tacv2", "open"),
    "402": ("19:retired-402@thread.tacv2", "retired"),
    "437": ("19:cancelled-437@thread.tacv2", "cancelled"),
    "589": ("19:planned-589@thread.tacv2", "planned"),
    "612": (None, "open"),  # decided open, the channel not created yet
}
OPEN = {"19:open-508@thread.tacv2", "19:open-528a7@thread.tacv2"}


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def store(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'handoff.db'}")
    await migrate(engine)
    store = Store(engine)
    async with store.write() as connection:
        await records.save_roster_csv(store, connection, sample_roster_csv(), TUESDAY)
        for station, (channel_id, status) in CHANNELS.items():
            await connection.execute(
                tables.channels.insert().values(
                    station=station, channel_id=channel_id, status=status, display_name=f"Go Live - {station}"
                )
            )
    yield store
    await engine.dispose()


async def handoff_jobs(store: Store) -> list:
    async with store.read() as connection:
        rows = await connection.execute(
            select(tables.outbox)
            .where(tables.outbox.c.kind == kinds.CHANNEL_NOTICE.name)
            .order_by(tables.outbox.c.id)
        )
        return rows.all()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def real_delay_until(self, instant: datetime) -> float:
        return 0.0


async def test_first_tick_only_sets_the_watermark(store):
    wakes = Wakes()
    notices = HandoffNotices(store, Clock(ROSA_COVERS + timedelta(hours=1)), wakes)
    assert await notices.tick() == 0
    assert await handoff_jobs(store) == []
    assert wakes.count == 0
    async with store.read() as connection:
        mark = await store.get_document(connection, WATERMARK)
    assert datetime.fromisoformat(mark["checked_until"]) == ROSA_COVERS + timedelta(hours=1)


async def test_one_notice_per_hand_off_and_open_channel_across_repeated_ticks(store):
    wakes = Wakes()
    clock = Clock(TUESDAY)
    notices = HandoffNotices(store, clock, wakes)
    await notices.tick()

    clock.at = ROSA_COVERS - timedelta(seconds=1)
    assert await notices.tick() == 0
    clock.at = ROSA_COVERS  # the hand-off instant itself is inside (last checked, now]
    assert await notices.tick() == 2
    for _ in range(3):
        assert await notices.tick() == 0
        assert await notices.tick(ROSA_COVERS + timedelta(minutes=5)) == 0
    assert wakes.count == 1

    jobs = await handoff_jobs(store)
    assert {job.payload["channel_id"] for job in jobs} == OPEN
    assert {job.dedupe_key for job in jobs} == {f"handoff:{c}:{ROSA_COVERS.isoformat()}" for c in OPEN}
    notice = json.dumps(jobs[0].payload["handoff"])
    assert "Rosa Martinez" in notice and "Jane Doe" in notice
    card = render_card(kinds.CHANNEL_NOTICE.decode(jobs[0].payload).handoff)
    assert card["type"] == "AdaptiveCard"


async def test_a_long_gap_posts_every_hand_off_in_it_once(store):
    clock = Clock(TUESDAY)
    notices = HandoffNotices(store, clock, Wakes())
    await notices.tick()
    clock.at = WEEK_TWO + timedelta(hours=1)
    assert await notices.tick() == 3 * len(OPEN)
    assert await notices.tick() == 0
    jobs = await handoff_jobs(store)
    instants = {job.dedupe_key.removeprefix(f"handoff:{job.payload['channel_id']}:") for job in jobs}
    assert len(jobs) == 6
    assert instants == {at.isoformat() for at in (ROSA_COVERS, ROSA_DONE, WEEK_TWO)}
    week_two = [job for job in jobs if WEEK_TWO.isoformat() in job.dedupe_key]
    assert "Marcus Lee" in json.dumps(week_two[0].payload["handoff"])


async def test_the_watermark_survives_a_new_instance_and_a_clock_moving_back(store):
    await HandoffNotices(store, Clock(TUESDAY), Wakes()).tick()
    assert await HandoffNotices(store, Clock(ROSA_COVERS + timedelta(seconds=1)), Wakes()).tick() == 2
    # A restarted process (a new instance) and a clock set back do not repeat or lose anything.
    assert await HandoffNotices(store, Clock(TUESDAY), Wakes()).tick() == 0
    assert await HandoffNotices(store, Clock(ROSA_COVERS + timedelta(minutes=1)), Wakes()).tick() == 0
    assert await HandoffNotices(store, Clock(ROSA_DONE), Wakes()).tick() == 2
    assert len(await handoff_jobs(store)) == 4


async def test_open_incidents_of_the_channel_are_listed(store):
    async with store.write() as connection:
        for number, channel, state in (
            ("INC0010001", "19:open-508@thread.tacv2", 2),
            ("INC0010002", "19:open-508@thread.tacv2", 6),
            ("INC0010003", "19:open-528a7@thread.tacv2", 1),
        ):
            await connection.execute(
                tables.inquiries.insert().values(
                    correlation_id=f"teams-{number}",
                    channel_id=channel,
                    root_message_id="1",
                    conversation_id=f"{channel};messageid={number}",
                    author_name="Pat",
                    text="help",
                    posted_at=TUESDAY,
                    received_at=TUESDAY,
                    number=number,
                    state=state,
                    incident_url=f"https://example.service-now.com/{number}",
                    deleted=False,
                )
            )
    clock = Clock(TUESDAY)
    notices = HandoffNotices(store, clock, Wakes())
    await notices.tick()
    clock.at = ROSA_COVERS
    await notices.tick()
    cards = {
        job.payload["channel_id"]: json.dumps(job.payload["handoff"]) for job in await handoff_jobs(store)
    }
    assert "INC0010001" in cards["19:open-508@thread.tacv2"]
    assert "INC0010002" not in cards["19:open-508@thread.tacv2"]
    assert "INC0010003" in cards["19:open-528a7@thread.tacv2"]
    assert "INC0010001" not in cards["19:open-528a7@thread.tacv2"]


async def test_the_job_handler_posts_a_new_thread_in_an_open_channel_only(store):
    chat = FakeChat()
    notices = ChannelNotices(store, Chats({"teams": chat}))
    view = HandoffView(from_name="Jane Doe", to_name="Rosa Martinez")

    def job(channel_id: str) -> Job[kinds.ChannelNotice]:
        return Job(
            1, kinds.CHANNEL_NOTICE.name, None, kinds.ChannelNotice("teams", channel_id, handoff=view), 0
        )

    await notices.post(job("19:open-508@thread.tacv2"))
    await notices.post(job("19:retired-402@thread.tacv2"))  # retired since the notice was queued
    await notices.post(job("19:unknown@thread.tacv2"))
    assert [post.channel_id for post in chat.new_threads()] == ["19:open-508@thread.tacv2"]
    assert chat.posts[0].message.view == view


async def test_notices_reach_exactly_the_open_channels_end_to_end(stack):
    """Against the emulators, wired as bot/app.py will wire it (handlers on the worker, a tick)."""
    components = stack.components
    # Until bot/app.py wires it, the test adds the handler to the running worker itself.
    await stack.channel_of("508")
    emulated = await wait_for(lambda: _created_channels(stack))
    async with components.store.write() as connection:
        for station, status in (("T-RET", "retired"), ("T-CAN", "cancelled"), ("T-PLN", "planned")):
            await connection.execute(
                tables.channels.insert().values(
                    station=station, channel_id=f"19:{station.lower()}@thread.tacv2", status=status
                )
            )

    notices = HandoffNotices(components.store, stack.clock, components.worker.wake)
    await notices.tick()
    # Ticks say when they are; the stack's clock stays put so no more channels open meanwhile.
    assert await notices.tick(ROSA_COVERS + timedelta(seconds=1)) == len(emulated)
    for _ in range(3):
        assert await notices.tick(ROSA_COVERS + timedelta(seconds=2)) == 0

    async def notice_roots(channel_id: str) -> list[dict]:
        return [
            t
            for t in await stack.threads(channel_id)
            if t.get("fromBot") and "Rosa Martinez" in json.dumps(t["attachments"])
        ]

    async def all_done() -> list | None:
        jobs = await handoff_jobs(components.store)
        return jobs if jobs and all(job.done_at is not None for job in jobs) else None

    jobs = await wait_for(all_done, timeout=10)
    for channel_id in emulated:
        assert len(await notice_roots(channel_id)) == 1
    assert {job.payload["channel_id"] for job in jobs} == emulated
    assert all(job.last_error is None for job in jobs), jobs


async def _created_channels(stack) -> set[str] | None:
    """The open go-live channels once the product's table and the emulator agree on them."""
    emulated = {c["id"] for c in await stack.channels() if c["goLive"] and c["state"] == "open"}
    async with stack.components.store.read() as connection:
        rows = await connection.execute(select(tables.channels).where(tables.channels.c.status == "open"))
        stored = {row.channel_id for row in rows}
    return emulated if emulated and stored == emulated else None
