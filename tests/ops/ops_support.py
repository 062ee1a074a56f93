"""Helpers for the operator tests (tests/ops): throwaway PostgreSQL databases, free loopback ports,
waiting for a condition with a timeout, and the repository's root."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("GOLIVE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
STAFF = {"name": "Pat Frontdesk", "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001"}

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
    """The first truthy value of ``check()``, or its last value once ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def _postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (skipped when none answers)."""
    if not await _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable")
    name = f"golive_ops_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
