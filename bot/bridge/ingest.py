"""Acknowledge fast, lose nothing: received events are stored before the HTTP answer and
processed afterwards.

``ActivityInbox.store`` adds the raw event (a Teams activity, a Slack event, an alert webhook: its
``source``) to a batch that one writer commits in a single transaction (group commit), and returns
once its batch is durable; the HTTP answer waits for that and nothing else. A row that fails in a
batch never fails its neighbours: the batch is written again row by row, and only the failing row's
caller gets the error (a 5xx, so its sender delivers it again). A redelivery is absorbed by a unique
key. ``ActivityProcessor`` then hands each stored event, oldest first, to its source's turn logic;
the use cases are idempotent, so an event processed again after a crash has no second effect. The
payload (which may hold personal data) is dropped once processed. An event that still fails after
``max_attempts`` is a dead letter (``dead_at``): kept, counted, listed by ``golive inbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
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
    raw_data = activity.get("channelData")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
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
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []  # (row, its caller)
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

    async def store(self, activity: dict[str, Any], *, source: str = "teams", key: str | None = None) -> None:
        """Return once the event is durably stored (or was already). ``key`` recognises a
        redelivery (a Teams activity's is derived from it when not given)."""
        self._arrivals.mark()
        row = self._row(activity, source, key)
        if self._task is None:  # no writer running (tests that drive the app by hand): write now
            await self._write([row])
            self._on_stored()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, waiter))
        self._wake.set()
        await waiter

    def _row(self, activity: dict[str, Any], source: str, key: str | None) -> dict[str, Any]:
        return {
            "dedupe_key": (key or received_key(activity))[:400],
            "source": source,
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
                    await self._write([row for row, _ in batch])
                except Exception:
                    # One bad row must not fail its neighbours: write them one by one.
                    await self._write_each(batch)
                else:
                    for _, waiter in batch:
                        if not waiter.done():
                            waiter.set_result(None)
                self._on_stored()

    async def _write_each(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        for row, waiter in batch:
            try:
                await self._write([row])
            except Exception as error:  # this caller answers 5xx, so its sender delivers it again
                log.warning("an event could not be stored (%s)", type(error).__name__)
                if not waiter.done():
                    waiter.set_exception(error)
            else:
                if not waiter.done():
                    waiter.set_result(None)

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        insert = sqlite_insert if self._store.dialect == "sqlite" else pg_insert
        # One row per dedupe key within the batch too (a burst of redeliveries).
        unique = list({row["dedupe_key"]: row for row in rows}.values())
        statement = insert(tables.received_activities).on_conflict_do_nothing(index_elements=["dedupe_key"])
        await self._store.insert_many(statement, unique)


TurnRunner = Callable[[dict[str, Any]], Awaitable[None]]


def safe_reason(error: BaseException) -> str:
    """What went wrong, for an operator: the error's type, and its reason where the product wrote
    it (ports' errors and msgspec's field paths never hold message text)."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        return f"{type(error).__name__}: {reason}"[:300]
    if type(error).__module__.startswith("msgspec"):
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"[:300]
    return type(error).__name__


class ActivityProcessor:
    """Feeds stored activities, oldest first, to the bot's turn logic."""

    def __init__(
        self,
        store: Store,
        turns: Mapping[str, TurnRunner],
        *,
        max_attempts: int = 8,
        poll_interval_s: float = 1.0,
        ingest_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._turns = dict(turns)
        self._max_attempts = max_attempts
        self._ingest_busy = ingest_busy
        self._poll = poll_interval_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: asyncio.Task[Any] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def release_orphaned_leases(self) -> int:
        """SQLite means one serving process: at start-up every lease belongs to a process that died,
        so its events are taken back now instead of when the lease runs out. Events waiting out a
        failed attempt's back-off (also a lease) are tried again at once; their attempts still count."""
        if self._store.dialect != "sqlite":
            return 0
        received = tables.received_activities
        async with self._store.write() as connection:
            result = await connection.execute(
                update(received)
                .where(
                    received.c.processed_at.is_(None),
                    received.c.dead_at.is_(None),
                    received.c.lease_until.is_not(None),
                )
                .values(lease_until=None)
            )
        return result.rowcount

    async def run(self) -> None:
        self._running = asyncio.current_task()
        released = await self.release_orphaned_leases()
        if released:
            log.info("took back %d events leased by a process that stopped", released)
        while not self._stopping:
            processed = await self.drain()
            if processed:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
            # arrives as the wait ends, and the loop would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking events; the one being processed may finish within ``grace_s`` (a turn cut
        short keeps its lease, and its event waits for the lease to run out on PostgreSQL)."""
        self._stopping = True
        self._wake.set()
        if self._running is not None and not self._running.done():
            await asyncio.wait([self._running], timeout=grace_s)

    async def drain(self, limit: int = 64) -> int:
        """Process every stored activity that is due, in order; returns how many were handled."""
        handled = 0
        while True:
            rows = await self._claim(limit)
            if not rows:
                return handled
            for index, row in enumerate(rows):
                if self._stopping:
                    await self._unclaim(rows[index:])
                    return handled
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
        due = (
            received.c.processed_at.is_(None)
            & received.c.dead_at.is_(None)
            & (received.c.lease_until.is_(None) | (received.c.lease_until < now))
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

    async def _unclaim(self, rows: list[Any]) -> None:
        """Give back events claimed and not started (stopping), so any replica takes them at once."""
        received = tables.received_activities
        async with self._store.write() as connection:
            await connection.execute(
                update(received)
                .where(received.c.id.in_([row.id for row in rows]), received.c.processed_at.is_(None))
                .values(lease_until=None, attempts=received.c.attempts - 1)
            )

    async def _process(self, row: Any) -> None:
        received = tables.received_activities
        try:
            turn = self._turns.get(row.source)
            if turn is None:
                raise LookupError(f"no processing for events from {row.source}")
            await turn(dict(row.payload or {}))
        except Exception as error:  # logged without the payload; retried with backoff, never dropped
            reason = safe_reason(error)
            if row.attempts >= self._max_attempts:
                log.error("event %s is a dead letter after %d attempts: %s", row.id, row.attempts, reason)
                values: dict[str, Any] = {
                    "dead_at": datetime.now(UTC),
                    "last_error": reason,
                    "lease_until": None,
                }
            else:
                log.warning("processing event %s failed (attempt %d): %s", row.id, row.attempts, reason)
                delay = min(MAX_BACKOFF_S, 2 ** min(row.attempts, 16))
                values = {"lease_until": datetime.now(UTC) + timedelta(seconds=delay), "last_error": reason}
            async with self._store.write() as connection:
                await connection.execute(update(received).where(received.c.id == row.id).values(**values))
            return
        async with self._store.write() as connection:
            await connection.execute(
                update(received)
                .where(received.c.id == row.id)
                .values(processed_at=datetime.now(UTC), payload=None, lease_until=None)
            )
