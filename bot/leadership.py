"""Which replica leads the schedule, as any replica can tell: ``/readyz``, ``/metrics``, the dashboard.

Every replica serves the inbound endpoints; only the leader runs schedule jobs (``bot.scheduling``).
Each replica knows for itself whether it leads (:class:`LeaderStatus`, kept by its
``ScheduleRunner``); who leads is a record in the ``documents`` table that the leader writes when it
takes over and on every leadership check (a heartbeat), so a follower can name the leader without
asking it. A record whose heartbeat is older than :data:`HEARTBEAT_STALE` names nobody: its writer
is gone and no successor has written yet.

Times here are wall-clock (UTC), never the simulated clock: leadership is about real processes.
Reading the record can fail like any database read (``sqlalchemy`` errors); :meth:`LeaderStatus.report`
then reports what this replica knows of itself and no leader name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.store import Store

log = logging.getLogger(__name__)

LEADER_DOCUMENT = "scheduler_leader"
HEARTBEAT_STALE = timedelta(seconds=30)


@dataclass(frozen=True)
class LeaderRecord:
    """The leader's own record: who, since when, and when it last confirmed it still leads."""

    owner: str | None
    since: datetime | None
    heartbeat: datetime

    @classmethod
    def from_document(cls, value: Any) -> LeaderRecord | None:
        if not isinstance(value, dict) or not isinstance(value.get("heartbeat"), str):
            return None
        try:
            heartbeat = datetime.fromisoformat(value["heartbeat"])
            since = datetime.fromisoformat(value["since"]) if isinstance(value.get("since"), str) else None
        except ValueError:
            return None
        owner = value.get("owner")
        return cls(owner if isinstance(owner, str) else None, since, heartbeat)

    def to_document(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "since": self.since.isoformat() if self.since else None,
            "heartbeat": self.heartbeat.isoformat(),
        }

    def fresh(self, now: datetime) -> bool:
        return self.owner is not None and now - self.heartbeat < HEARTBEAT_STALE


async def load_leader_record(store: Store, connection: AsyncConnection) -> LeaderRecord | None:
    return LeaderRecord.from_document(await store.get_document(connection, LEADER_DOCUMENT))


async def save_leader_record(
    store: Store, connection: AsyncConnection, identity: str | None, now: datetime
) -> LeaderRecord:
    """Write ``identity`` as the leader (None: nobody), keeping ``since`` while the owner is the same."""
    current = await load_leader_record(store, connection)
    since = current.since if current and current.owner == identity and current.since else now
    record = LeaderRecord(identity, since if identity else None, now)
    await store.put_document(connection, LEADER_DOCUMENT, record.to_document(), now)
    return record


async def announce_leader(store: Store, identity: str) -> None:
    """The leader's heartbeat (PostgreSQL: the advisory lock is the truth, this is its name tag)."""
    async with store.write() as connection:
        await save_leader_record(store, connection, identity, datetime.now(UTC))


async def withdraw_leader(store: Store, identity: str) -> None:
    """A leader stepping down clears the record (if it still names it), so nobody is named."""
    async with store.write() as connection:
        current = await load_leader_record(store, connection)
        if current and current.owner == identity:
            nobody = LeaderRecord(None, None, datetime(1970, 1, 1, tzinfo=UTC))
            await store.put_document(connection, LEADER_DOCUMENT, nobody.to_document(), datetime.now(UTC))


@dataclass(frozen=True)
class LeadershipReport:
    """What ``/readyz``, ``/metrics`` and the dashboard show about leadership."""

    replica: str
    leader: bool
    leader_replica: str | None
    leader_since: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "leader": self.leader,
            "replica": self.replica,
            "leader_replica": self.leader_replica,
            "leader_since": self.leader_since.isoformat() if self.leader_since else None,
        }


class LeaderStatus:
    """This replica's identity and whether it leads the schedule now (kept by its ScheduleRunner)."""

    def __init__(self, identity: str, store: Store | None = None) -> None:
        self.identity = identity
        self._store = store
        self.is_leader = False
        self.since: datetime | None = None

    def became_leader(self) -> None:
        self.is_leader, self.since = True, datetime.now(UTC)

    def stepped_down(self) -> None:
        self.is_leader, self.since = False, None

    async def report(self) -> LeadershipReport:
        if self.is_leader:
            return LeadershipReport(self.identity, True, self.identity, self.since)
        record = None
        if self._store is not None:
            try:
                async with self._store.read() as connection:
                    record = await load_leader_record(self._store, connection)
            except (SQLAlchemyError, OSError) as error:
                log.warning("leader record unreadable (%s)", type(error).__name__)
        if record is None or not record.fresh(datetime.now(UTC)) or record.owner == self.identity:
            return LeadershipReport(self.identity, False, None, None)
        return LeadershipReport(self.identity, False, record.owner, record.since)


__all__ = [
    "HEARTBEAT_STALE",
    "LEADER_DOCUMENT",
    "LeaderRecord",
    "LeaderStatus",
    "LeadershipReport",
    "announce_leader",
    "load_leader_record",
    "save_leader_record",
    "withdraw_leader",
]
