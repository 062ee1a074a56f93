"""Storage tests run against SQLite always and PostgreSQL when it is reachable (see
``testkit.databases``); the ``database_url`` fixture is shared from tests/conftest.py."""

from __future__ import annotations

import pytest

from bot.storage.database import create_engine, migrate
from bot.storage.store import Store


@pytest.fixture
async def store(database_url):
    """The storage adapter on a fresh, migrated database."""
    engine = create_engine(database_url)
    await migrate(engine)
    store = Store(engine)
    yield store
    await store.close()
    await engine.dispose()
