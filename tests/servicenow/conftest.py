"""Fixtures for the gateway tests: the ServiceNow emulator on loopback (``emulator``, ``http``
from testkit.servicenow) and gateways against it."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pysnc
import pytest
from testkit.servicenow import ENGINEERS, PEOPLE, Emulator, emulator, http, self_signed_cert

from emulators.servicenow import EmulatorConfig, create_servicenow_emulator
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway

__all__ = [
    "emulator",
    "gateway",
    "http",
    "make_gateway",
    "make_pysnc",
    "make_tls_emulator",
    "tls_emulator",
    "tls_files",
]


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def make_tls_emulator(
    aiohttp_server: Callable[..., Any], tls_files: tuple[Path, Path]
) -> Callable[..., Any]:
    """Emulators served over HTTPS (pysnc refuses http:// instances)."""

    async def factory(**overrides: Any) -> Emulator:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls_files)
        config = EmulatorConfig(**{"engineers": ENGINEERS, "people": PEOPLE, **overrides})
        return Emulator(await aiohttp_server(create_servicenow_emulator(config), ssl=context))

    return factory


@pytest.fixture
async def tls_emulator(make_tls_emulator: Callable[..., Any]) -> Emulator:
    return await make_tls_emulator()


@pytest.fixture
def make_pysnc(tls_files: tuple[Path, Path]) -> Iterator[Callable[..., pysnc.ServiceNowClient]]:
    """pysnc clients for an HTTPS emulator, signed in as ``user`` (default: the integration user)."""
    made: list[pysnc.ServiceNowClient] = []

    def factory(
        emulator: Emulator, user: str = INTEGRATION_USER, password: str = INTEGRATION_PASSWORD
    ) -> pysnc.ServiceNowClient:
        client = pysnc.ServiceNowClient(emulator.base_url, (user, password), verify=str(tls_files[0]))
        # REQUESTS_CA_BUNDLE in the environment would otherwise win over the session's verify.
        client.session.trust_env = False
        made.append(client)
        return client

    yield factory
    for client in made:
        client.session.close()


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
