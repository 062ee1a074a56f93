"""Acknowledge fast, lose nothing: received activities are stored before the HTTP answer and
processed afterwards.

``ActivityInbox.store`` adds the raw activity to a batch that one writer commits in a single
transaction (group commit), and returns once its batch is durable; the HTTP answer waits for that
and nothing else. A redelivery (same conversation, activity id and type) is absorbed by a unique
key. ``ActivityProcessor`` then hands each stored activity, oldest first, to the bot's turn logic;
the use cases are idempotent, so an activity processed again after a crash has no second effect.
The payload (which may hold personal data) is dropped once processed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_BATCH = 256
PROCESS_LEASE = timedelta(seconds=60)
MAX_BACKOFF_S = 300


def received_key(activity: dict[str, Any]) -> str:
    """Teams redelivers with the same conversation and activity id; an edit reuses the message id,
    so its text is part of the key."""
    conversation = (activity.get("conversation") or {}).get("id") or ""
    data = activity.get("channelData") if isinstance(activity.get("channelData"), dict) else {}
    parts = [
        str(activity.get("type")),
        conversation,
        str(activity.get("id") or ""),
        str(data.get("eventType") or ""),
    ]
    if activity.get("type") == "messageUpdate":
        parts.append(hashlib.sha256(str(activity.get("text") or "").encode()).hexdigest()[:16])
    if not activity.get("id"):
        # Without an id there is nothing to recognise a redelivery by: keep every copy.
        parts.append(hashlib.sha256(repr(sorted(activity.items())).encode()).hexdigest()[:16])
    return "|".join(parts)[:400]


class Arrivals:
    """When inbound activities last arrived: background work gives way to bursts of them."""

    def __init__(self) -> None:
        self._last = 0.0

    def mark(self) -> None:
        self._last = time.monotonic()

    def busy(self, within_s: float = 0.02) -> bool:
        """Activities arrived in the last ``within_s``: background work should give way."""
        return time.monotonic() - self._last < within_s


class ActivityInbox:
    """Group-committing writer of received activities."""

    def __init__(self, store: Store, on_stored: Callable[[], None], arrivals: Arrivals) -> None:
        self._store = store
        self._on_stored = on_stored
        self._arrivals = arrivals
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="activity-inbox-writer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for _, waiter in self._pending:
            if not waiter.done():
                waiter.set_exception(ConnectionError("the bot is shutting down"))
        self._pending.clear()

    async def store(self, activity: dict[str, Any]) -> None:
        """Return once the activity is durably stored (or was already)."""
        self._arrivals.mark()
        if self._task is None:  # no writer running (tests that drive the app by hand): write now
            await self._write([(self._row(activity), None)])
            self._on_stored()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((activity, waiter))
        self._wake.set()
        await waiter

    def _row(self, activity: dict[str, Any]) -> dict[str, Any]:
        return {
            "dedupe_key": received_key(activity),
            "payload": activity,
            "received_at": datetime.now(UTC),
            "attempts": 0,
        }

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Let the requests that are already being read join this batch.
            await asyncio.sleep(0)
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    await self._write([(self._row(activity), waiter) for activity, waiter in batch])
                except Exception as error:  # the callers answer 5xx, so Teams redelivers
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_exception(error)
                    continue
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_result(None)
                self._on_stored()

    async def _write(self, rows: list[tuple[dict[str, Any], Any]]) -> None:
        insert = sqlite_insert if self._store.dialect == "sqlite" else pg_insert
        values = [row for row, _ in rows]
        # One row per dedupe key within the batch too (a burst of redeliveries).
        unique = list({row["dedupe_key"]: row for row in values}.values())
        statement = insert(tables.received_activities).on_conflict_do_nothing(index_elements=["dedupe_key"])
        async with self._store.write() as connection:
            await connection.execute(statement, unique)


TurnRunner = Callable[[dict[str, Any]], Awaitable[None]]


class ActivityProcessor:
    """Feeds stored activities, oldest first, to the bot's turn logic."""

    def __init__(
        self,
        store: Store,
        run_turn: TurnRunner,
        *,
        poll_interval_s: float = 1.0,
        ingest_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._run_turn = run_turn
        self._ingest_busy = ingest_busy
        self._poll = poll_interval_s
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            processed = await self.drain()
            if processed:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._poll)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self, limit: int = 64) -> int:
        """Process every stored activity that is due, in order; returns how many were handled."""
        handled = 0
        while True:
            rows = await self._claim(limit)
            if not rows:
                return handled
            for row in rows:
                await self._give_way()
                await self._process(row)
                handled += 1

    async def _give_way(self, at_most_s: float = 0.2) -> None:
        """While activities pour in, answering them comes first; processing still advances at
        least one activity per ``at_most_s``."""
        waited = 0.0
        while waited < at_most_s and self._ingest_busy():
            await asyncio.sleep(0.005)
            waited += 0.005

    async def _claim(self, limit: int) -> list[Any]:
        received = tables.received_activities
        now = datetime.now(UTC)
        due = (received.c.processed_at.is_(None)) & (
            received.c.lease_until.is_(None) | (received.c.lease_until < now)
        )
        async with self._store.write() as connection:
            ids = (
                (
                    await connection.execute(
                        select(received.c.id).where(due).order_by(received.c.id).limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return []
            # Only the rows this replica's UPDATE took: another replica may have claimed some.
            claimed = (
                await connection.execute(
                    update(received)
                    .where(received.c.id.in_(ids), due)
                    .values(lease_until=now + PROCESS_LEASE, attempts=received.c.attempts + 1)
                    .returning(received)
                )
            ).all()
        return sorted(claimed, key=lambda row: row.id)

    async def _process(self, row) -> None:
        received = tables.received_activities
        try:
            await self._run_turn(dict(row.payload or {}))
        except Exception as error:  # logged without the payload; retried with backoff, never dropped
            log.warning(
                "processing activity %s failed (attempt %d): %s", row.id, row.attempts, type(error).__name__
            )
            delay = min(MAX_BACKOFF_S, 2 ** min(row.attempts, 16))
            async with self._store.write() as connection:
                await connection.execute(
                    update(received)
                    .where(received.c.id == row.id)
                    .values(lease_until=datetime.now(UTC) + timedelta(seconds=delay))
                )
            return
        async with self._store.write() as connection:
            await connection.execute(
                update(received)
                .where(received.c.id == row.id)
                .values(processed_at=datetime.now(UTC), payload=None, lease_until=None)
            )
