"""End-to-end fixtures: the whole product on loopback (see tests/bridge/bridge_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# bridge_support lives beside the bridge tests; these tests drive the same stack.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bridge"))

from bridge_support import start_stack


@pytest.fixture
async def stack(tmp_path):
    stack = await start_stack(tmp_path)
    yield stack
    await stack.close()
