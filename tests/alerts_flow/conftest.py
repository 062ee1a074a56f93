"""Fixtures of tests/alerts_flow (helpers live in alertflow_support)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alertflow_support import AlertBridge, alert_bridge


@pytest.fixture
async def alerts(tmp_path: Path) -> AsyncIterator[AlertBridge]:
    async with alert_bridge(tmp_path) as bridge:
        yield bridge
