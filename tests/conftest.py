"""Fixtures shared by every test folder: the whole product on loopback (tests/testkit/stack.py)."""

from __future__ import annotations

import pytest
from testkit.stack import start_stack


@pytest.fixture
async def stack(tmp_path):
    stack = await start_stack(tmp_path)
    yield stack
    await stack.close()
