"""Fixtures: the Jira emulator (sample site, test credentials, fixed clock) and a client for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jiraemu_support import API_TOKEN, EMAIL, NOW

from emulators.jira import config_for_account, create_jira_emulator

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any) -> MakeClient:
    """An emulator client; ``state_dir`` may be given."""

    async def start(state_dir: Any = None) -> TestClient:
        config = dataclasses.replace(
            config_for_account(EMAIL, API_TOKEN, state_dir=state_dir), now=lambda: NOW
        )
        return await aiohttp_client(create_jira_emulator(config))

    return start


@pytest.fixture
async def jira(make_client: MakeClient) -> TestClient:
    return await make_client()
