"""The whole product on loopback for end-to-end tests: the bot, the Teams emulator and the ServiceNow
emulator, each a real HTTP server; the real clients (botbuilder's connector client, pysnow) talk to
them over the wire."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import RUNTIME, Overrides, Runtime, create_app
from bot.clock import FrozenClock
from bot.settings import Environment, Settings
from bot.storage.store import Store
from emulators.servicenow import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    create_servicenow_emulator,
)
from emulators.teams import EMULATOR, Person, TeamsEmulator, TeamsEmulatorConfig, create_teams_emulator
from emulators.teams.config import sample_people
from schedule.sample import sample_roster
from testkit.settle import settled

# Tuesday of the sample plan's first week, mid-afternoon on the US east coast.
SAMPLE_NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
STAFF = Person("Pat Frontdesk", "a1b2c3d4-0000-4000-8000-000000000001", "site-staff")
ROSTER = sample_roster()
ENGINEERS = tuple(ROSTER.engineers.values())


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, password), "Accept": "application/json"}


def reserve_port(port: int = 0) -> socket.socket:
    """A listening-ready socket on loopback, bound now (port 0: the system picks a free one), so no
    other process can take the port between choosing it and serving on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def on_socket(sock: socket.socket) -> dict[str, Any]:
    """``server_kwargs`` for pytest-aiohttp's ``aiohttp_client(app, server_kwargs=...)``: its test
    server listens on ``sock``, a socket the test already holds (for an app that must know its own
    URL before it starts)."""
    return {"port": sock.getsockname()[1], "socket_factory": lambda *_: sock}


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns a truthy value; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


def bot_settings(
    tmp_path: Path, bot_port: int, sn_port: int, teams_port: int, team_id: str, **extra
) -> Settings:
    values = dict(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'golive.db'}",
        microsoft_app_id="",
        servicenow_url=f"http://127.0.0.1:{sn_port}",
        servicenow_user=INTEGRATION_USER,
        servicenow_password=INTEGRATION_PASSWORD,
        servicenow_poll_interval_s=0.3,
        servicenow_timeout_s=5.0,
        graph_url=f"http://127.0.0.1:{teams_port}/v1.0",
        team_id=team_id,
        tick_seconds=0.3,
        port=bot_port,
    )
    values.update(extra)
    return Settings(**values)


@dataclass
class Stack:
    bot_port: int
    sn_port: int
    teams_port: int
    clock: FrozenClock
    settings: Settings
    runners: list[web.AppRunner]
    http: aiohttp.ClientSession
    bot_app: web.Application | None = None
    bot_socket: socket.socket | None = None

    @property
    def teams(self) -> str:
        return f"http://127.0.0.1:{self.teams_port}"

    @property
    def servicenow(self) -> str:
        return f"http://127.0.0.1:{self.sn_port}"

    @property
    def runtime(self) -> Runtime:
        assert self.bot_app is not None
        return self.bot_app[RUNTIME]

    @property
    def components(self) -> Runtime:
        return self.runtime

    @property
    def teams_emulator(self) -> TeamsEmulator:
        return next(runner.app[EMULATOR] for runner in self.runners if EMULATOR in runner.app)

    def teams_delivering(self) -> bool:
        """The Teams emulator is still telling the bot about a channel change on its own (it does
        that after answering the Graph call, as Teams does). Its set of such deliveries is private;
        the emulator is ours, and this is the one place a test looks at it."""
        return bool(self.teams_emulator._tasks)

    async def settled(self, timeout: float = 20.0, store: Store | None = None) -> None:
        """Wait until nothing is under way: no delivery of the Teams emulator's own in flight, every
        received activity processed and every outbox job done, seen in that order in one pass.
        ``store``: the database of a bot running in another process (``testkit.settle.store_of``)."""
        store = store or self.runtime.store
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.1, deadline - time.monotonic())

            async def quiet() -> bool:
                return not self.teams_delivering()

            await wait_for(quiet, timeout=remaining)
            await settled(store, timeout=remaining)
            if not self.teams_delivering():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the Teams emulator kept delivering for {timeout}s")

    async def channels(self) -> list[dict]:
        async with self.http.get(f"{self.teams}/_emulator/channels") as response:
            return (await response.json())["channels"]

    async def channel_of(self, station: str) -> str:
        async def find():
            for channel in await self.channels():
                if channel.get("station") == station and channel["state"] == "open":
                    return channel["id"]
            return None

        return await wait_for(find)

    async def post(
        self, channel_id: str, text: str, person: Person = STAFF, reply_to: str | None = None
    ) -> dict:
        body: dict[str, Any] = {
            "from": {"name": person.name, "aadObjectId": person.aad_object_id},
            "text": text,
        }
        if reply_to:
            body["replyToId"] = reply_to
        async with self.http.post(
            f"{self.teams}/_emulator/channels/{channel_id}/messages", json=body
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def threads(self, channel_id: str) -> list[dict]:
        async with self.http.get(f"{self.teams}/_emulator/channels/{channel_id}/threads") as response:
            return await response.json()

    async def thread(self, channel_id: str, root_id: str) -> dict:
        for thread in await self.threads(channel_id):
            if thread["id"] == root_id:
                return thread
        raise AssertionError("thread not found")

    async def incidents(self, query: str = "") -> list[dict]:
        params = {"sysparm_query": query} if query else {}
        async with self.http.get(
            f"{self.servicenow}/api/now/table/incident",
            params=params,
            headers=basic("admin", "admin"),
        ) as response:
            if response.status != 200:  # a fault the test injected also answers our own reads
                return []
            return (await response.json())["result"]

    async def journal(self, sys_id: str) -> list[dict]:
        params = {"sysparm_query": f"element_id={sys_id}^ORDERBYsys_created_on"}
        async with self.http.get(
            f"{self.servicenow}/api/now/table/sys_journal_field",
            params=params,
            headers=basic("admin", "admin"),
        ) as response:
            return (await response.json())["result"]

    async def servicenow_faults(self, faults: dict | None) -> None:
        if faults is None:
            async with self.http.delete(f"{self.servicenow}/_emulator/faults") as response:
                assert response.status in (200, 204)
        else:
            async with self.http.post(f"{self.servicenow}/_emulator/faults", json=faults) as response:
                assert response.status == 200

    async def servicenow_as(self, user: str, password: str, method: str, path: str, payload: dict) -> dict:
        async with self.http.request(
            method,
            f"{self.servicenow}{path}",
            json=payload if method != "GET" else None,
            headers=basic(user, password),
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def press(self, activity_id: str, verb: str, data: dict, person: Person | None = None) -> dict:
        body: dict[str, Any] = {"activityId": activity_id, "verb": verb, "data": data}
        if person is not None:
            body["from"] = {"name": person.name, "aadObjectId": person.aad_object_id}
        async with self.http.post(f"{self.teams}/_emulator/actions", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def start_bot(self, overrides: Overrides | None = None) -> None:
        overrides = overrides or Overrides(clock=self.clock)
        app = create_app(self.settings, overrides)
        # Each start serves on a duplicate of the socket reserved with the stack: stopping the bot
        # closes the duplicate only, so the port stays ours across restarts (never released and
        # bound again), and the emulator's deliveries during a restart wait in the listen backlog.
        assert self.bot_socket is not None, "the bot's port was released"
        self.runners.append(await serve(app, self.bot_socket.dup()))
        self.bot_app = app

    async def stop_bot(self) -> None:
        for runner in list(self.runners):
            if runner.app is self.bot_app:
                await runner.cleanup()
                self.runners.remove(runner)
        self.bot_app = None

    def release_bot_port(self) -> None:
        """Close the stack's hold on the bot's port, for a bot in another process that binds it
        itself (``golive serve --port``); the in-process bot cannot start again afterwards."""
        assert self.bot_app is None, "stop the bot first"
        if self.bot_socket is not None:
            self.bot_socket.close()
            self.bot_socket = None

    async def close(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()
        if self.bot_socket is not None:
            self.bot_socket.close()
        await self.http.close()


async def start_stack(
    tmp_path: Path, *, start_bot: bool = True, clock: FrozenClock | None = None, **settings
) -> Stack:
    """Both emulators and (optionally) the bot, with the sample plan and roster loaded."""
    from bot.sandbox import duty_reader, sandbox_people, seed_if_empty

    clock = clock or FrozenClock(SAMPLE_NOW)
    bot_socket, sn_socket, teams_socket = reserve_port(), reserve_port(), reserve_port()
    bot_port, sn_port, teams_port = (s.getsockname()[1] for s in (bot_socket, sn_socket, teams_socket))
    people = sandbox_people(ROSTER) or sample_people()
    bot = bot_settings(tmp_path, bot_port, sn_port, teams_port, TeamsEmulatorConfig().team_id, **settings)
    # Duty as the bot's database says now, so a swap shows in /_emulator/people as in the sandbox.
    teams_config = TeamsEmulatorConfig(
        bot_url=f"http://127.0.0.1:{bot_port}/api/messages",
        public_url=f"http://127.0.0.1:{teams_port}/",
        now=clock.now,
        people=people,
        duty_for=duty_reader(bot.database_url, ROSTER),
    )
    await seed_if_empty(bot, clock.now())
    # Every person the Teams emulator knows is a sys_user with their e-mail, as in the sandbox.
    sn_config = EmulatorConfig(
        engineers=tuple((e.servicenow_user, e.name, e.email or "x@example.va.gov") for e in ENGINEERS),
        people=people,
        clock=clock.now,
        public_base_url=f"http://127.0.0.1:{sn_port}",
    )
    runners = [
        await serve(create_servicenow_emulator(sn_config), sn_socket),
        await serve(create_teams_emulator(teams_config), teams_socket),
    ]
    stack = Stack(
        bot_port, sn_port, teams_port, clock, bot, runners, aiohttp.ClientSession(), bot_socket=bot_socket
    )
    if start_bot:
        await stack.start_bot()
        async with stack.http.post(f"{stack.teams}/_emulator/install", json={}) as response:
            assert response.status == 200
    return stack
