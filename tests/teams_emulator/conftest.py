"""Fixtures: a fake bot (a tiny aiohttp app) and the Teams emulator wired to it on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from testkit.teams_emulator import PEOPLE, SIM_NOW, FakeBot

from emulators.teams import TeamsEmulatorConfig, create_teams_emulator


@pytest.fixture
async def fake_bot(aiohttp_server: Any) -> Any:
    bot = FakeBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        activity = await request.json()
        bot.received.append(activity)
        bot.authorization.append(request.headers.get("Authorization"))
        if bot.on_activity is not None:
            answer = await bot.on_activity(activity)
            if answer is not None:
                return answer
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    server = await aiohttp_server(app)
    bot.url = str(server.make_url("/api/messages"))
    async with aiohttp.ClientSession() as session:
        bot.session = session
        yield bot


EmulatorFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_emulator(aiohttp_server: Any, aiohttp_client: Any, unused_tcp_port_factory: Any) -> EmulatorFactory:
    """Start an emulator whose serviceUrl is its real loopback address; keyword args override config."""

    async def start(bot_url: str = "http://127.0.0.1:9/api/messages", **overrides: Any) -> TestClient:
        port = unused_tcp_port_factory()
        settings: dict[str, Any] = {
            "bot_url": bot_url,
            "public_url": f"http://127.0.0.1:{port}/",
            "people": PEOPLE,
            "now": lambda: SIM_NOW,
        }
        settings.update(overrides)
        server = await aiohttp_server(create_teams_emulator(TeamsEmulatorConfig(**settings)), port=port)
        return await aiohttp_client(server)

    return start


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory, fake_bot: FakeBot) -> TestClient:
    return await make_emulator(fake_bot.url)
