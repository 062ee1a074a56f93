"""Every replica reads the simulated clock from the database: a replica started later shows the same
time as the first, and a restarted one continues the clock instead of rewinding it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ClockAnchor, SimulatedClock
from bot.shared_clock import CLOCK_DOCUMENT, share_clock, share_clock_at
from bot.storage.database import create_engine
from bot.storage.store import Store

START = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
T0 = 1_700_000_000.0


def replica_clock(start: datetime = START, speed: float = 60.0, wall: float = T0) -> SimulatedClock:
    """A replica's clock as configured (``--now``/``--speed``), started at the wall-clock ``wall``."""
    return SimulatedClock(start, speed, wall=lambda: wall)


async def stored_anchor(store: Store) -> ClockAnchor | None:
    async with store.read() as connection:
        return ClockAnchor.from_document(await store.get_document(connection, CLOCK_DOCUMENT))


async def test_the_first_replica_stores_its_clock(store):
    first = replica_clock()
    anchor = await share_clock(store, first)
    assert anchor == first.anchor == await stored_anchor(store)
    assert anchor.simulated == START and anchor.speed == 60.0


async def test_a_replica_started_later_runs_on_the_first_replicas_clock(store):
    first = replica_clock(wall=T0)
    await share_clock(store, first)
    later = replica_clock(wall=T0 + 10)
    await share_clock(store, later)
    assert later.anchor == first.anchor
    # Ten real seconds after the first start, at 60x: ten simulated minutes on, not the configured start.
    assert later.now() >= START + timedelta(minutes=10)


async def test_a_restarted_replica_never_rewinds_the_clock(store):
    await share_clock(store, replica_clock(wall=T0))
    restarted = replica_clock(wall=T0 + 3600)  # an hour later, with the same --now
    await share_clock(store, restarted)
    assert restarted.now() >= START + timedelta(hours=60)
    assert (await stored_anchor(store)).simulated == START


async def test_a_later_start_instant_moves_the_clock_forward(store):
    await share_clock(store, replica_clock(wall=T0))
    later_start = START + timedelta(days=30)  # well beyond the wall-clock skew margin
    forward = replica_clock(start=later_start, wall=T0 + 10)
    await share_clock(store, forward)
    assert forward.now() >= later_start
    assert (await stored_anchor(store)).simulated == later_start


async def test_another_speed_changes_pace_from_where_the_clock_is(store):
    await share_clock(store, replica_clock(speed=60.0, wall=T0))
    faster = replica_clock(speed=600.0, wall=T0 + 10)
    anchor = await share_clock(store, faster)
    assert anchor.speed == 600.0
    assert anchor.simulated >= START + timedelta(minutes=10)  # where the shared clock was: no rewind
    assert await stored_anchor(store) == anchor


async def test_an_unreadable_stored_anchor_is_replaced(store):
    async with store.write() as connection:
        await store.put_document(connection, CLOCK_DOCUMENT, {"simulated": "yesterday"}, START)
    clock = replica_clock()
    anchor = await share_clock(store, clock)
    assert await stored_anchor(store) == anchor
    assert anchor.speed == 60.0


async def test_replicas_starting_together_agree(store, database_url):
    clocks = [SimulatedClock(START, 60.0) for _ in range(3)]  # on the real wall clock, made in turn
    engines = [create_engine(database_url) for _ in clocks]
    try:
        await asyncio.gather(*(share_clock(Store(e), c) for e, c in zip(engines, clocks, strict=True)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len({clock.anchor for clock in clocks}) == 1


async def test_sharing_twice_changes_nothing(store, database_url):
    clock = replica_clock()
    first = await share_clock_at(database_url, clock)
    second = await share_clock(store, clock)
    assert first == second == clock.anchor


def test_anchor_documents_round_trip():
    anchor = ClockAnchor(START, T0, 2.5)
    assert ClockAnchor.from_document(anchor.to_document()) == anchor
    for bad in (None, [], {}, {"simulated": START.isoformat(), "real": "x", "speed": 1}):
        assert ClockAnchor.from_document(bad) is None
    with pytest.raises(ValueError):
        ClockAnchor(START, T0, 0)
    with pytest.raises(ValueError):
        ClockAnchor(START.replace(tzinfo=None), T0, 1)


async def test_a_restarted_app_continues_its_simulated_clock(database_url, aiohttp_client):
    from bot.app import RUNTIME, Overrides, create_app
    from bot.settings import Environment, Settings

    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        servicenow_url="http://127.0.0.1:9",
        simulated_now=START,
        simulated_speed=3600,
    )
    first = await aiohttp_client(create_app(settings, Overrides(run_background=False)))
    first_clock = first.app[RUNTIME].clock
    await first.close()
    restarted = await aiohttp_client(create_app(settings, Overrides(run_background=False)))
    # Unshared, the restarted clock would trail the first by its start-up time (an hour per second).
    first_now = first_clock.now()
    assert restarted.app[RUNTIME].clock.now() >= first_now - timedelta(seconds=1)
    assert first_now > START
