"""Helpers shared by the ServiceNow emulator tests (tests/emulators_servicenow) and the gateway
tests that run against it (tests/servicenow): the emulator on loopback, raw HTTP to it, its faults.

The fixtures ``emulator`` and ``http`` are defined here once; each folder's conftest.py imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from emulators.servicenow import EmulatorConfig, create_servicenow_emulator
from emulators.servicenow.api import FAULTS_KEY, STORE_KEY
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER

__all__ = [
    "ADMIN_AUTH",
    "ENGINEERS",
    "INTEGRATION_AUTH",
    "JSON",
    "Emulator",
    "emulator",
    "http",
    "set_faults",
]

ENGINEERS = (("jdoe", "Jane Doe", "jane.doe@example.com"), ("rroe", "Rick Roe", "rick.roe@example.com"))
INTEGRATION_AUTH = {"Authorization": aiohttp.encode_basic_auth(INTEGRATION_USER, INTEGRATION_PASSWORD)}
ADMIN_AUTH = {"Authorization": aiohttp.encode_basic_auth("admin", "admin")}
JSON = {"Accept": "application/json"}


class Emulator:
    """A running emulator plus helpers to reach into it."""

    def __init__(self, server: TestServer):
        self.server = server
        self.app = server.app
        self.base_url = str(server.make_url("")).rstrip("/")

    @property
    def store(self) -> Any:
        return self.app[STORE_KEY]

    @property
    def faults(self) -> Any:
        return self.app[FAULTS_KEY]

    def incidents(self) -> list[dict[str, str]]:
        return self.store.rows("incident")


@pytest.fixture
async def emulator(aiohttp_server: Callable[..., Any]) -> Emulator:
    app = create_servicenow_emulator(EmulatorConfig(engineers=ENGINEERS))
    return Emulator(await aiohttp_server(app))


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP session to the emulator, signed in as the integration user."""
    async with aiohttp.ClientSession(
        base_url=emulator.base_url, headers={**INTEGRATION_AUTH, **JSON}
    ) as session:
        yield session


async def set_faults(emulator: Emulator, body: dict[str, Any] | None) -> dict[str, Any]:
    """Merge ``body`` into the emulator's faults (None clears them); returns the faults now set."""
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.delete(f"{emulator.base_url}/_emulator/faults") as response:
                assert response.status == 200
                return await response.json()
        async with session.post(f"{emulator.base_url}/_emulator/faults", json=body) as response:
            assert response.status == 200
            return await response.json()
