"""Fixtures for the roster-sync tests: the PagerDuty emulator (the sandbox roster's rota, its clock at
NOW) and the PagerDuty adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from rsync_support import NOW, SCHEDULES

from bot.pagerduty import PagerDutyConfig, PagerDutyRoster
from emulators.pagerduty import DEFAULT_TOKEN, PagerDutyEmulatorConfig, create_pagerduty_emulator


@pytest.fixture
async def emulator(aiohttp_server: Any) -> Any:
    return await aiohttp_server(
        create_pagerduty_emulator(PagerDutyEmulatorConfig(tokens=(DEFAULT_TOKEN,), now=lambda: NOW))
    )


@pytest.fixture
async def pagerduty(emulator: Any) -> AsyncIterator[PagerDutyRoster]:
    """The adapter, three on-calls a page (so four weeks take three pages)."""
    adapter = PagerDutyRoster(
        PagerDutyConfig(str(emulator.make_url("")).rstrip("/"), DEFAULT_TOKEN, SCHEDULES, page_size=3)
    )
    yield adapter
    await adapter.close()
