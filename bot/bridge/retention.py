"""Retention of personal data: message text is erased ``GOLIVE_RETENTION_DAYS`` after it stops being
needed, and nothing of it stays in the database files.

Site staff paste patient details despite the reminder. What is erased, and when:

- an inquiry's text and resolution notes, once its incident was resolved (``resolved_at``) and, for a
  go-live channel's inquiry, its channel retired (``retired_at``), whichever is later, plus the
  retention period; an unresolved inquiry keeps its text;
- finished outbox jobs (their payloads hold comment, work-note and reply texts) and processed
  received events (activities, webhooks) older than the retention period are deleted: nothing needs
  them any more; a dead letter that old is dropped with them;
- whatever other features keep (alert titles, follow-up titles...): each gives a :class:`Purge`
  to the composition root, which hands them to :class:`Retention`.

Incident numbers, sites, times, names and counts stay, so reports and the dashboard still work.
After an erase on SQLite (``secure_delete`` is on for every connection, so freed space is zeroed),
the WAL is checkpointed and truncated and the file vacuumed, so no copy is left in ``golive.db``,
``-wal`` or ``-shm``. On PostgreSQL the touched tables get ``VACUUM FULL``, which rewrites their
files; copies in the write-ahead log and in backups last until those are recycled (README).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import records
from bot.storage import tables
from bot.storage.store import Store

log = logging.getLogger(__name__)

#: Tables whose files are rewritten after an erase on PostgreSQL.
TOUCHED_TABLES = ("inquiries", "outbox", "received_activities")


class Purge(Protocol):
    """Another feature's text that follows the same rule (registered in :data:`PURGES`)."""

    name: str
    table: str

    async def count(self, connection: AsyncConnection, cutoff: datetime) -> int: ...

    async def erase(self, connection: AsyncConnection, cutoff: datetime, now: datetime) -> None: ...


@dataclass
class PurgeResult:
    """What a purge erased (counts only: never text)."""

    inquiries: int = 0
    jobs: int = 0
    events: int = 0
    dead_letters: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.inquiries + self.jobs + self.events + self.dead_letters + sum(self.extra.values())

    def lines(self) -> list[str]:
        lines = [
            f"inquiry texts erased: {self.inquiries}",
            f"finished job payloads erased: {self.jobs}",
            f"received event payloads erased: {self.events}",
            f"dead letters dropped: {self.dead_letters}",
        ]
        lines += [f"{name}: {count}" for name, count in sorted(self.extra.items())]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "inquiries": self.inquiries,
            "jobs": self.jobs,
            "events": self.events,
            "dead_letters": self.dead_letters,
            **self.extra,
        }


def _erasable_inquiries(cutoff: datetime) -> Any:
    inquiries, channels = tables.inquiries, tables.channels
    retired = (
        select(channels.c.retired_at).where(channels.c.channel_id == inquiries.c.channel_id).scalar_subquery()
    )
    has_channel = select(channels.c.station).where(channels.c.channel_id == inquiries.c.channel_id).exists()
    return and_(
        inquiries.c.purged_at.is_(None),
        inquiries.c.resolved_at.is_not(None),
        inquiries.c.resolved_at <= cutoff,
        or_(~has_channel, and_(retired.is_not(None), retired <= cutoff)),
    )


class Retention:
    def __init__(self, store: Store, days: int, purges: Sequence[Purge] = ()) -> None:
        self._store = store
        self._days = days
        self._purges = tuple(purges)

    async def purge(self, now: datetime, *, actor: str, dry_run: bool = False) -> PurgeResult:
        """Erase what is past the retention period at ``now`` (the product's clock, which may be
        simulated); bookkeeping rows stamped in real time (jobs without an inquiry, received events)
        follow the wall clock."""
        cutoff = now - timedelta(days=self._days)
        wall_cutoff = datetime.now(UTC) - timedelta(days=self._days)
        result = PurgeResult()
        inquiries, outbox, received = tables.inquiries, tables.outbox, tables.received_activities
        erasable = select(inquiries.c.id).where(_erasable_inquiries(cutoff))
        finished_jobs = and_(
            outbox.c.done_at.is_not(None),
            or_(
                outbox.c.inquiry_id.in_(erasable),
                and_(outbox.c.inquiry_id.is_(None), outbox.c.done_at <= wall_cutoff),
            ),
        )
        old_events = and_(received.c.received_at <= wall_cutoff, received.c.processed_at.is_not(None))
        old_dead = and_(
            received.c.received_at <= wall_cutoff,
            received.c.processed_at.is_(None),
            received.c.dead_at.is_not(None),
        )
        async with self._store.write() as connection:
            result.inquiries = await _count(connection, inquiries, _erasable_inquiries(cutoff))
            result.jobs = await _count(connection, outbox, finished_jobs)
            result.events = await _count(connection, received, old_events)
            result.dead_letters = await _count(connection, received, old_dead)
            for purge in self._purges:
                result.extra[purge.name] = await purge.count(connection, cutoff)
            if dry_run:
                return result
            # Jobs first: which inquiries are erasable is read before their texts are erased.
            await connection.execute(delete(outbox).where(finished_jobs))
            await connection.execute(
                update(inquiries)
                .where(_erasable_inquiries(cutoff))
                .values(text="", close_notes="", purged_at=now)
            )
            await connection.execute(delete(received).where(or_(old_events, old_dead)))
            for purge in self._purges:
                await purge.erase(connection, cutoff, now)
            await records.audit(
                connection,
                now,
                actor,
                "retention.purge",
                ", ".join(f"{k}={v}" for k, v in result.as_json().items()),
            )
        if result.total:
            await self.scrub()
        log.info("retention purge erased %d item(s)", result.total)
        return result

    async def scrub(self) -> None:
        """Leave no copy of erased text in the database files (see the module docstring)."""
        if self._store.dialect == "sqlite":
            async with self._store.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                try:
                    await driver.execute("VACUUM")
                except (
                    Exception
                ) as error:  # another process holds the file: secure_delete still zeroed the text
                    log.info(
                        "VACUUM skipped (%s); freed space was zeroed by secure_delete", type(error).__name__
                    )
                await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        async with self._store.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in [*TOUCHED_TABLES, *(purge.table for purge in self._purges)]:
                await autocommit.execute(text(f"VACUUM FULL {table}"))


async def _count(connection: AsyncConnection, table: Any, condition: Any) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table).where(condition)) or 0)
