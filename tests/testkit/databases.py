"""Databases for tests: SQLite always, PostgreSQL when it is reachable (127.0.0.1:5432, database
``test`` on this machine, or ``GOLIVE_TEST_POSTGRES_DSN``); each PostgreSQL test gets a throwaway
database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

PG_ADMIN_DSN = os.environ.get("GOLIVE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


async def postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def throwaway_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database's URL; dropped afterwards."""
    name = f"golive_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'golive.db'}"
