"""Fixtures shared by every test folder: the whole product on loopback (tests/testkit/stack.py)
and databases (tests/testkit/databases.py)."""

from __future__ import annotations

import pytest
from testkit.databases import postgres_reachable, sqlite_url, throwaway_postgres
from testkit.stack import start_stack


@pytest.fixture
async def stack(tmp_path):
    stack = await start_stack(tmp_path)
    yield stack
    await stack.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path):
    """A fresh database: SQLite, and PostgreSQL when one is reachable (a throwaway database)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not await postgres_reachable():
        pytest.skip("PostgreSQL is not reachable")
    async for url in throwaway_postgres():
        yield url


@pytest.fixture
async def postgres_url():
    """A throwaway PostgreSQL database, for what only PostgreSQL has (skipped when none answers)."""
    if not await postgres_reachable():
        pytest.skip("PostgreSQL is not reachable")
    async for url in throwaway_postgres():
        yield url
