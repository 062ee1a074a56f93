"""Fixtures: the PagerDuty emulator with the sample account on a fixed clock, and a client for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pdemu_support import NOW, TOKEN

from emulators.pagerduty import PagerDutyEmulatorConfig, create_pagerduty_emulator

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any) -> MakeClient:
    """An emulator client; keyword arguments override the config (sample account, clock at NOW)."""

    async def start(**overrides: Any) -> TestClient:
        settings: dict[str, Any] = {"tokens": (TOKEN,), "now": lambda: NOW}
        settings.update(overrides)
        return await aiohttp_client(create_pagerduty_emulator(PagerDutyEmulatorConfig(**settings)))

    return start


@pytest.fixture
async def pd(make_client: MakeClient) -> TestClient:
    return await make_client()
