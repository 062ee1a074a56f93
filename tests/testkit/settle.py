"""Waiting for the bot to be idle, so a test can assert that something did NOT happen.

"Settled" means every received activity is processed and every outbox job is done (including jobs
waiting out a retry delay). The product writes an activity's jobs before it marks the activity
processed, and a job's follow-up jobs before it marks the job done, so reading the inbox first and
the outbox second can never see both empty while work they hold is still to come.

Not covered, because they are neither inbox nor outbox: periodic ticks (run one yourself first:
``runtime.escalation.tick()``, ``runtime.lifecycle.tick()``, ``runtime.sync.poll()``) and callback
tasks (``SyncBack.spawn``). ``Stack.settled`` (testkit.stack) also waits for the Teams emulator's
own deliveries (it tells the bot about channel changes after answering Graph).

An activity claimed by a bot that then stops (or is killed) is taken again only when its 60 s lease
runs out, so a test that restarts the bot settles it before the stop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from bot.storage import tables
from bot.storage.database import create_engine
from bot.storage.store import Store


async def pending_work(store: Store) -> tuple[int, int]:
    """(received activities not yet processed, outbox jobs not yet done), read in that order."""
    received, outbox = tables.received_activities, tables.outbox
    async with store.read() as connection:
        unprocessed = await connection.scalar(
            select(func.count()).select_from(received).where(received.c.processed_at.is_(None))
        )
        undone = await connection.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.done_at.is_(None))
        )
    return int(unprocessed or 0), int(undone or 0)


async def settled(store: Store, timeout: float = 20.0, interval: float = 0.05) -> None:
    """Wait until the inbox and the outbox of a running bot (in this process or another one on
    the same database) are both empty."""
    deadline = time.monotonic() + timeout
    while True:
        pending = await pending_work(store)
        if pending == (0, 0):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the bot did not settle within {timeout}s: {pending[0]} activities unprocessed, "
                f"{pending[1]} outbox jobs not done: {await _what_is_pending(store)}"
            )
        await asyncio.sleep(interval)


async def _what_is_pending(store: Store) -> list[str]:
    """The pending work by kind and attempts (never payload text), to say why it did not settle."""
    received, outbox = tables.received_activities, tables.outbox
    async with store.read() as connection:
        activities = (
            await connection.execute(
                select(received.c.dedupe_key, received.c.attempts, received.c.lease_until).where(
                    received.c.processed_at.is_(None)
                )
            )
        ).all()
        jobs = (
            await connection.execute(
                select(outbox.c.kind, outbox.c.attempts, outbox.c.last_error).where(
                    outbox.c.done_at.is_(None)
                )
            )
        ).all()
    return [
        *(
            f"activity {a.dedupe_key.split('|')[0]} attempts={a.attempts} lease={a.lease_until}"
            for a in activities
        ),
        *(f"job {j.kind} attempts={j.attempts} error={j.last_error}" for j in jobs),
    ]


@asynccontextmanager
async def store_of(database_url: str) -> AsyncIterator[Store]:
    """The database of a bot in another process (``golive serve``), to see whether it settled."""
    engine = create_engine(database_url)
    try:
        yield Store(engine)
    finally:
        await engine.dispose()
