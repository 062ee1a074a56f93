"""Storage tests run against SQLite always and PostgreSQL when it is reachable (127.0.0.1:5432,
database ``test`` on this machine); each PostgreSQL test gets a throwaway database."""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

PG_ADMIN_DSN = os.environ.get("GOLIVE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


async def _postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'golive.db'}"
        return
    if not await _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable")
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
