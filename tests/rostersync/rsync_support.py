"""Helpers for the roster-sync tests (a uniquely named module: test folders have no __init__):
PagerDuty's recorded answers, on-call entries built by hand, a server on its own thread."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.ports import OnCallEntry
from emulators.pagerduty.config import BACKUP_SCHEDULE_ID, PRIMARY_SCHEDULE_ID

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pagerduty"
SCHEDULES = (PRIMARY_SCHEDULE_ID, BACKUP_SCHEDULE_ID)
# Tuesday of the sample plan's first week.
NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
MONDAY = datetime(2022, 5, 2, tzinfo=UTC)


def recorded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def answer(document: dict[str, Any]) -> web.Response:
    """A recorded answer as the vendor sent it: status, headers and body."""
    return web.json_response(document["body"], status=document["status"], headers=document.get("headers"))


def on_call(
    email: str, schedule: str, start: datetime, days: float = 7, name: str | None = None
) -> OnCallEntry:
    """One on-call entry from ``start`` for ``days``."""
    return OnCallEntry(
        email=email,
        name=name or email.split("@")[0].replace(".", " ").title(),
        schedule_id=schedule,
        start=start,
        end=start + timedelta(days=days),
    )


@contextmanager
def served_in_a_thread(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from its own thread and loop (for code that runs
    ``asyncio.run`` itself, such as the CLI); yields the base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"] = runner
        state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the server did not start"
    try:
        yield str(state["url"])
    finally:
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
