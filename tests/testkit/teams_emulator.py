"""Helpers for the Teams emulator tests (tests/emulators_teams) and the Graph client tests that run
against it (tests/teams): people, a fake bot, the emulator on a socket the test holds, driver API
shortcuts.

The fixtures ``fake_bot``, ``make_emulator`` and ``emulator`` are defined here once; each folder's
conftest.py imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from emulators.teams import Person, TeamsEmulatorConfig, create_teams_emulator
from testkit.stack import on_socket, reserve_port

STAFF = Person("Pat Frontdesk", "11111111-1111-4111-8111-111111111111", "site-staff")
ENGINEER = Person("Alex Engineer", "22222222-2222-4222-8222-222222222222", "engineer")
BACKUP = Person("Bea Backup", "33333333-3333-4333-8333-333333333333", "engineer")
MANAGER = Person("Morgan Manager", "44444444-4444-4444-8444-444444444444", "manager")
PEOPLE = (STAFF, ENGINEER, BACKUP, MANAGER)
SIM_NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)

OnActivity = Callable[[dict[str, Any]], Awaitable[web.StreamResponse | None]]


def conversation_url(service_url: str, conversation_id: str, activity_id: str | None = None) -> str:
    """A connector URL with the ids percent-encoded the way the botbuilder client sends them."""
    url = f"{service_url}v3/conversations/{quote(conversation_id, safe='')}/activities"
    return f"{url}/{quote(activity_id, safe='')}" if activity_id else url


@dataclass
class FakeBot:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    on_activity: OnActivity | None = None
    session: aiohttp.ClientSession | None = None

    async def reply(self, activity: dict[str, Any], text: str, **extra: Any) -> aiohttp.ClientResponse:
        """reply_to_activity through the connector, by plain HTTP."""
        assert self.session is not None
        url = conversation_url(activity["serviceUrl"], activity["conversation"]["id"], activity["id"])
        body = {"type": "message", "text": text, "replyToId": activity["id"], **extra}
        async with self.session.post(url, json=body) as resp:
            await resp.read()
            return resp

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("type") == kind]


async def general_channel(client: TestClient) -> str:
    resp = await client.get("/_emulator/channels")
    return (await resp.json())["teamThreadId"]


async def post_as(
    client: TestClient, channel_id: str, person: Person, text: str, reply_to: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"from": {"name": person.name, "aadObjectId": person.aad_object_id}, "text": text}
    if reply_to:
        body["replyToId"] = reply_to
    resp = await client.post(f"/_emulator/channels/{quote(channel_id, safe='')}/messages", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def threads(client: TestClient, channel_id: str) -> list[dict[str, Any]]:
    resp = await client.get(f"/_emulator/channels/{quote(channel_id, safe='')}/threads")
    assert resp.status == 200
    return await resp.json()


async def create_channel(client: TestClient, name: str) -> str:
    team_id = (await (await client.get("/_emulator/channels")).json())["teamId"]
    resp = await client.post(f"/v1.0/teams/{team_id}/channels", json={"displayName": name})
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


@pytest.fixture
async def fake_bot(aiohttp_server: Any) -> AsyncIterator[FakeBot]:
    """A tiny bot on port 0 that records every activity and answers through ``on_activity``."""
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
def make_emulator(aiohttp_client: Any) -> EmulatorFactory:
    """Start an emulator whose serviceUrl is its real loopback address; keyword args override config.

    The emulator must know its own URL before it starts, so its socket is bound first (port 0: the
    system picks a free one), its config built with that port, and it serves on that very socket.
    """

    async def start(bot_url: str = "http://127.0.0.1:9/api/messages", **overrides: Any) -> TestClient:
        sock = reserve_port()
        settings: dict[str, Any] = {
            "bot_url": bot_url,
            "public_url": f"http://127.0.0.1:{sock.getsockname()[1]}/",
            "people": PEOPLE,
            "now": lambda: SIM_NOW,
        }
        settings.update(overrides)
        app = create_teams_emulator(TeamsEmulatorConfig(**settings))
        return await aiohttp_client(app, server_kwargs=on_socket(sock))

    return start


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory, fake_bot: FakeBot) -> TestClient:
    return await make_emulator(fake_bot.url)
