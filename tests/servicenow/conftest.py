"""Fixtures for the gateway tests: the ServiceNow emulator on loopback (``emulator``, ``http``
from testkit.servicenow) and gateways against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from testkit.servicenow import Emulator, emulator, http

from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway

__all__ = ["emulator", "gateway", "http", "make_gateway"]


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
