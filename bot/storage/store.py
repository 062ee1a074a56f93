"""The storage adapter: transactions, idempotent inserts and the small document store.

SQLite allows one writer at a time; in SQLite mode (always a single process) writers queue on an
asyncio lock instead of failing with "database is locked". PostgreSQL needs no such lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Insert, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage import tables
from bot.storage.database import is_sqlite, sqlite_sync_twin


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._write_lock = asyncio.Lock() if self._sqlite else None
        # ``insert_many`` on SQLite: a plain engine on the same file and the one thread that uses it.
        self._sync_engine: Engine | None = None
        self._sync_thread: ThreadPoolExecutor | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that writes; committed on exit, rolled back on error."""
        if self._write_lock is None:
            async with self.engine.begin() as connection:
                yield connection
            return
        async with self._write_lock, self.engine.begin() as connection:
            yield connection

    async def insert_many(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        """One write transaction running ``statement`` over ``rows`` (the inbox's group commit).

        On SQLite the transaction runs whole on one worker thread with a plain connection: one
        hand-off to a thread instead of three (BEGIN, INSERT, COMMIT through aiosqlite), each of
        which waits its turn on an event loop that is busy with the very burst being stored."""
        if self._write_lock is None or not self._start_sync_writer():
            async with self.write() as connection:
                await connection.execute(statement, rows)
            return
        async with self._write_lock:
            await asyncio.get_running_loop().run_in_executor(
                self._sync_thread, self._insert_many_now, statement, rows
            )

    def _start_sync_writer(self) -> bool:
        if self._sync_thread is None:
            self._sync_engine = sqlite_sync_twin(self.engine)
            if self._sync_engine is None:  # an in-memory database has no second connection
                return False
            self._sync_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-insert-many")
        return True

    def _insert_many_now(self, statement: Insert, rows: list[dict[str, Any]]) -> None:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as connection:
            connection.execute(statement, rows)

    async def close(self) -> None:
        """Release what ``insert_many`` opened; the async engine is its owner's to dispose."""
        thread, engine = self._sync_thread, self._sync_engine
        self._sync_thread = self._sync_engine = None
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, thread.shutdown)
        if engine is not None:
            engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    async def insert_if_absent(
        self, connection: AsyncConnection, table: Table, values: dict[str, Any], keys: list[str]
    ) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING; True when the row was new."""
        insert = sqlite_insert if self._sqlite else pg_insert
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        result = await connection.execute(statement)
        return result.rowcount == 1

    async def get_document(self, connection: AsyncConnection, key: str) -> Any | None:
        row = (
            await connection.execute(select(tables.documents.c.value).where(tables.documents.c.key == key))
        ).first()
        return None if row is None else row[0]

    async def put_document(self, connection: AsyncConnection, key: str, value: Any, at: datetime) -> None:
        insert = sqlite_insert if self._sqlite else pg_insert
        statement = insert(tables.documents).values(key=key, value=value, updated_at=at)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": at}
        )
        await connection.execute(statement)
