"""Fixtures: the GitHub emulator with the sample repository on a fixed clock, and a client for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from ghemu_support import emulator_config

from emulators.github import create_github_emulator

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any) -> MakeClient:
    """An emulator client; keyword arguments override the config."""

    async def start(**overrides: Any) -> TestClient:
        return await aiohttp_client(create_github_emulator(emulator_config(**overrides)))

    return start


@pytest.fixture
async def gh(make_client: MakeClient) -> TestClient:
    return await make_client()


@pytest.fixture
async def gh_unlimited(make_client: MakeClient) -> TestClient:
    """For generated-input tests that make thousands of calls on one emulator."""
    return await make_client(core_limit=10**9, search_limit=10**9)
