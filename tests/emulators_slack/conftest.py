"""Fixtures: a fake bot (a tiny aiohttp app) and the Slack emulator wired to it on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from slackemu_support import PEOPLE, SECRET, SIM_NOW, TOKEN, FakeBot, Received
from testkit.stack import on_socket, reserve_port

from emulators.slack import SlackEmulatorConfig, create_slack_emulator


@pytest.fixture
async def fake_bot(aiohttp_server: Any) -> FakeBot:
    bot = FakeBot()

    async def events(request: web.Request) -> web.StreamResponse:
        received = Received(dict(request.headers), await request.read())
        bot.received.append(received)
        if bot.on_request is not None:
            answer = await bot.on_request(received)
            if answer is not None:
                return answer
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", events)
    server = await aiohttp_server(app)
    bot.url = str(server.make_url("/slack/events"))
    return bot


EmulatorFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_emulator(aiohttp_client: Any) -> EmulatorFactory:
    """Start an emulator whose public URL is its real loopback address; keyword args override config.

    The emulator must know its own URL before it starts, so its socket is bound first (port 0: the
    system picks a free one), its config built with that port, and it serves on that very socket.
    """

    async def start(bot_url: str = "http://127.0.0.1:9/slack/events", **overrides: Any) -> TestClient:
        sock = reserve_port()
        settings: dict[str, Any] = {
            "bot_url": bot_url,
            "public_url": f"http://127.0.0.1:{sock.getsockname()[1]}/",
            "signing_secret": SECRET,
            "bot_token": TOKEN,
            "people": PEOPLE,
            "now": lambda: SIM_NOW,
            "echo_bot_messages": False,
        }
        settings.update(overrides)
        app = create_slack_emulator(SlackEmulatorConfig(**settings))
        return await aiohttp_client(app, server_kwargs=on_socket(sock))

    return start


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory, fake_bot: FakeBot) -> TestClient:
    return await make_emulator(fake_bot.url)
