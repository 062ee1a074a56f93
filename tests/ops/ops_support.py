"""Helpers for the operator tests (tests/ops): a free port for a ``golive serve`` that binds it
itself, waiting for a condition with a timeout, and the repository's root. Databases come from
the shared fixtures (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("GOLIVE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
STAFF = {"name": "Pat Frontdesk", "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001"}

T = TypeVar("T")


def free_port() -> int:
    """A port free now, for a child process that binds it itself (``golive serve --port``): released
    before the child binds it, unlike ``testkit.stack.reserve_port`` for servers in the test."""
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
