"""Fixtures for the ServiceNow tests: an emulator on loopback, raw HTTP and gateway clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from testkit.servicenow import ENGINEERS, INTEGRATION_AUTH, JSON, Emulator

from emulators.servicenow import EmulatorConfig, create_servicenow_emulator
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway


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


@pytest.fixture
async def make_gateway(emulator: Emulator) -> AsyncIterator[Callable[..., ServiceNowGateway]]:
    """Gateways against the emulator with test-sized timeouts and backoff."""
    made: list[ServiceNowGateway] = []

    def factory(**overrides: Any) -> ServiceNowGateway:
        settings: dict[str, Any] = {
            "timeout_s": 2.0,
            "max_concurrency": 4,
            "max_attempts": 6,
            "backoff_base_s": 0.02,
            "backoff_max_s": 3.0,
        }
        settings.update(overrides)
        gateway = ServiceNowGateway(
            ServiceNowConfig(emulator.base_url, INTEGRATION_USER, INTEGRATION_PASSWORD, **settings)
        )
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        await gateway.close()


@pytest.fixture
async def gateway(make_gateway: Callable[..., ServiceNowGateway]) -> ServiceNowGateway:
    return make_gateway()
