"""The whole sandbox (``golive sandbox``) in the test's own process, every port chosen by the
system, its state under the test's directory; stopped however the test ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox import SandboxOptions, SandboxUrls, run_sandbox

#: The sample data's first go-live week, Tuesday afternoon: six channels are open.
SANDBOX_NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def running_sandbox(
    tmp_path: Path, *, timeout: float = 30.0, **options: Any
) -> AsyncIterator[SandboxUrls]:
    """Run the sandbox with ``options`` (``SandboxOptions`` fields) over these defaults: ports 0,
    state in ``tmp_path / "sandbox"``, the clock at :data:`SANDBOX_NOW`. Yields its URLs once it
    serves; a sandbox that fails to start raises its error here."""
    values: dict[str, Any] = {
        "port": 0,
        "servicenow_port": 0,
        "teams_port": 0,
        "slack_port": 0,
        "state_dir": tmp_path / "sandbox",
        "now": SANDBOX_NOW,
        **options,
    }
    ready: asyncio.Future[SandboxUrls] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_sandbox(SandboxOptions(**values), ready.set_result))
    try:
        done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what stopped it
            raise AssertionError("the sandbox stopped before it was ready")
        if not done:
            raise AssertionError(f"the sandbox was not ready within {timeout} s")
        yield ready.result()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
