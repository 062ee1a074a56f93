"""One simulated clock for every replica and every restart, kept in the database.

A replica with a simulated clock (the sandbox's ``--now/--speed``, ``GOLIVE_SIMULATED_NOW``) used to
start it from its own start-up: a second replica disagreed with the first by the time between their
starts, and a restarted one rewound to the configured instant. Now the clock's anchor (the simulated
instant it showed at a wall-clock instant, and its speed) is stored in the ``documents`` table the
first time one starts, and every later start adopts it:

- no stored anchor: this replica's clock is stored as it is;
- a stored anchor with the same speed, showing the configured start or later: adopted as it is (the
  clock continues, never rewinds);
- a later configured start than the stored clock shows, or another speed: a new anchor is stored at
  the later of the two instants (a fast-forward or a change of pace, never a rewind). Replicas that
  run at the same time must share ``GOLIVE_SIMULATED_SPEED``; one started with another speed
  re-anchors the stored clock, and replicas already running keep theirs until they restart.

Errors are the database's (``sqlalchemy`` errors); start-up fails with them, as with migrations.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.clock import Clock, ClockAnchor, SimulatedClock, SystemClock
from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store

log = logging.getLogger(__name__)

CLOCK_DOCUMENT = "simulated_clock"
#: Real seconds two replicas' wall clocks may disagree by (NTP keeps them far closer).
WALL_CLOCK_SKEW_S = 60.0


async def share_clock(store: Store, clock: SimulatedClock) -> ClockAnchor:
    """Make ``clock`` run from the stored anchor (storing its own first when there is none)."""
    wanted = clock.anchor
    async with store.write() as connection:
        now_real = clock.real_now()
        inserted = await store.insert_if_absent(
            connection,
            tables.documents,
            {
                "key": CLOCK_DOCUMENT,
                "value": wanted.to_document(),
                "updated_at": datetime.fromtimestamp(now_real, UTC),
            },
            ["key"],
        )
        if inserted:
            log.info("simulated clock anchored at %s (%gx)", wanted.simulated.isoformat(), wanted.speed)
            return wanted
        stored = ClockAnchor.from_document(await store.get_document(connection, CLOCK_DOCUMENT))
        anchor = _reconcile(stored, wanted, now_real)
        if anchor != stored:
            await store.put_document(
                connection, CLOCK_DOCUMENT, anchor.to_document(), datetime.fromtimestamp(now_real, UTC)
            )
    clock.adopt(anchor)
    if anchor == stored:
        log.info("simulated clock continues from the stored anchor: now %s", clock.now().isoformat())
    else:
        log.info("simulated clock re-anchored at %s (%gx)", anchor.simulated.isoformat(), anchor.speed)
    return anchor


def _reconcile(stored: ClockAnchor | None, wanted: ClockAnchor, now_real: float) -> ClockAnchor:
    if stored is None:
        return ClockAnchor(wanted.at(now_real), now_real, wanted.speed)
    stored_now = stored.at(now_real)
    # Hosts' wall clocks differ a little: a start within that of the shared clock is no fast-forward.
    margin = timedelta(seconds=WALL_CLOCK_SKEW_S * wanted.speed)
    if stored.speed == wanted.speed and wanted.simulated <= stored_now + margin:
        return stored
    return ClockAnchor(max(wanted.simulated, stored_now), now_real, wanted.speed)


async def share_clock_at(database_url: str, clock: SimulatedClock) -> ClockAnchor:
    """:func:`share_clock` for a caller without a store yet (the sandbox, before it seeds)."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        return await share_clock(Store(engine), clock)
    finally:
        await engine.dispose()


async def stored_clock(store: Store) -> Clock:
    """The product's clock as the bot that keeps this database runs it, for a ``golive`` command:
    the simulated clock stored there (a sandbox's or a development replica's), else the system
    clock. A command that dates or judges anything by the plan, the roster or a deadline reads
    ``now`` from it, so ``--state-dir .sandbox`` agrees with the running sandbox."""
    async with store.read() as connection:
        anchor = ClockAnchor.from_document(await store.get_document(connection, CLOCK_DOCUMENT))
    return SystemClock() if anchor is None else SimulatedClock.from_anchor(anchor)


__all__ = ["CLOCK_DOCUMENT", "share_clock", "share_clock_at", "stored_clock"]
