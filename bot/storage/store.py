"""The storage adapter: transactions, idempotent inserts and the small document store.

SQLite allows one writer at a time; in SQLite mode (always a single process) writers queue on an
asyncio lock instead of failing with "database is locked". PostgreSQL needs no such lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage import tables
from bot.storage.database import is_sqlite


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite = is_sqlite(engine)
        self._write_lock = asyncio.Lock() if self._sqlite else None

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
