"""Helpers for the roster-sync tests: recorded PagerDuty answers served by a tiny aiohttp app, the
PagerDuty emulator on loopback, and on-call entries built by hand for the use-case tests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.pagerduty import PagerDutyConfig, PagerDutyRoster
from bot.ports import OnCallEntry
from emulators.pagerduty import DEFAULT_TOKEN, PagerDutyEmulatorConfig, create_pagerduty_emulator
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


@dataclass
class Seen:
    """The requests a recorded server received: (method, path, query as a list of pairs, headers)."""

    requests: list[tuple[str, str, list[tuple[str, str]], dict[str, str]]] = field(default_factory=list)

    def record(self, request: web.Request) -> None:
        self.requests.append(
            (request.method, request.path, list(request.query.items()), dict(request.headers))
        )

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.requests]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def recorded_pagerduty(aiohttp_server: Any) -> Any:
    """``await recorded_pagerduty({"/oncalls": handler, ...})`` -> (adapter, what the server saw)."""
    adapters: list[PagerDutyRoster] = []

    async def start(routes: dict[str, Handler], page_size: int = 100) -> tuple[PagerDutyRoster, Seen]:
        seen = Seen()

        @web.middleware
        async def remember(request: web.Request, handler: Handler) -> web.StreamResponse:
            seen.record(request)
            return await handler(request)

        app = web.Application(middlewares=[remember])
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        server = await aiohttp_server(app)
        adapter = PagerDutyRoster(
            PagerDutyConfig(
                str(server.make_url("")).rstrip("/"), "recorded-token", SCHEDULES, page_size=page_size
            )
        )
        adapters.append(adapter)
        return adapter, seen

    yield start
    for adapter in adapters:
        await adapter.close()


@pytest.fixture
async def emulator(aiohttp_server: Any) -> Any:
    """The PagerDuty emulator with the sample account (the sandbox roster's rota), clock at NOW."""
    return await aiohttp_server(
        create_pagerduty_emulator(PagerDutyEmulatorConfig(tokens=(DEFAULT_TOKEN,), now=lambda: NOW))
    )


@pytest.fixture
async def pagerduty(emulator: Any) -> Any:
    adapter = PagerDutyRoster(
        PagerDutyConfig(str(emulator.make_url("")).rstrip("/"), DEFAULT_TOKEN, SCHEDULES, page_size=3)
    )
    yield adapter
    await adapter.close()


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
