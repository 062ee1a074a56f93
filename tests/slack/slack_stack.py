"""The bot, the Slack emulator and (optionally) the ServiceNow emulator on loopback, each a real HTTP
server: Slack's signed deliveries reach the bot's /slack/events, the bot's slack_sdk client talks to
the emulator's Web API, pysnow to the ServiceNow emulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW, basic, reserve_port, serve

from bot.app import RUNTIME, Overrides, Runtime, create_app
from bot.clock import FrozenClock
from bot.ports import IncidentTracker
from bot.sandbox import seed_if_empty, slack_people
from bot.settings import Environment, Settings
from emulators.servicenow import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    create_servicenow_emulator,
)
from emulators.slack import SlackEmulatorConfig, create_slack_emulator
from schedule.sample import sample_roster

SECRET = "slack-stack-secret"
TOKEN = "xoxb-slack-stack"
ROSTER = sample_roster()
PEOPLE = slack_people(ROSTER)
STAFF = next(p for p in PEOPLE if p.role == "site-staff")
JANE = next(p for p in PEOPLE if p.name == "Jane Doe")


@dataclass
class SlackStack:
    bot_url: str
    slack_url: str
    servicenow_url: str | None
    clock: FrozenClock
    app: web.Application
    runners: list[web.AppRunner]
    http: aiohttp.ClientSession

    @property
    def runtime(self) -> Runtime:
        return self.app[RUNTIME]

    async def channel(self, name: str = "check-in-go-live") -> str:
        async with self.http.get(f"{self.slack_url}/_emulator/channels") as response:
            channels = (await response.json())["channels"]
        return next(c["id"] for c in channels if c["name"] == name)

    async def driver(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, f"{self.slack_url}{path}", json=body) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def post(
        self, channel: str, text: str, user: str = STAFF.user_id, thread_ts: str | None = None
    ) -> Any:
        body = {"user": user, "text": text} | ({"thread_ts": thread_ts} if thread_ts else {})
        return await self.driver("POST", f"/_emulator/channels/{channel}/messages", body)

    async def messages(self, channel: str) -> list[dict[str, Any]]:
        return list(await self.driver("GET", f"/_emulator/channels/{channel}/messages"))

    async def thread(self, channel: str, ts: str) -> dict[str, Any]:
        return next(m for m in await self.messages(channel) if m["ts"] == ts)

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        path = "/_emulator/calls" + (f"?method={method}" if method else "")
        return list((await self.driver("GET", path))["calls"])

    async def incidents(self) -> list[dict[str, Any]]:
        assert self.servicenow_url is not None
        async with self.http.get(
            f"{self.servicenow_url}/api/now/table/incident", headers=basic("admin", "admin")
        ) as response:
            return list((await response.json())["result"]) if response.status == 200 else []

    async def drain(self, rounds: int = 30) -> None:
        for _ in range(rounds):
            if not await self.runtime.processor.drain() + await self.runtime.worker.drain_once():
                return
        raise AssertionError("the bot did not settle")

    async def close(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()
        await self.http.close()


async def start_slack_stack(
    tmp_path: Path,
    *,
    servicenow: bool = False,
    background: bool = False,
    tracker: IncidentTracker | None = None,
    **settings: Any,
) -> SlackStack:
    clock = FrozenClock(SAMPLE_NOW)
    bot_sock, slack_sock, sn_sock = reserve_port(), reserve_port(), reserve_port()
    bot_port, slack_port, sn_port = (s.getsockname()[1] for s in (bot_sock, slack_sock, sn_sock))
    values: dict[str, Any] = dict(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'golive.db'}",
        microsoft_app_id="",
        team_id="team",
        servicenow_url=f"http://127.0.0.1:{sn_port}" if servicenow else "http://servicenow.invalid",
        servicenow_user=INTEGRATION_USER,
        servicenow_password=INTEGRATION_PASSWORD,
        servicenow_poll_interval_s=0.3,
        servicenow_timeout_s=5.0,
        tick_seconds=0.3,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=f"http://127.0.0.1:{slack_port}/api/",
    )
    values.update(settings)
    bot_settings = Settings(**values)
    await seed_if_empty(bot_settings, clock.now())
    runners = []
    if servicenow:
        sn_config = EmulatorConfig(
            engineers=tuple((e.servicenow_user, e.name, e.email) for e in ROSTER.engineers.values()),
            people=tuple(p for p in PEOPLE if p.role != "engineer"),
            clock=clock.now,
            public_base_url=f"http://127.0.0.1:{sn_port}",
        )
        runners.append(await serve(create_servicenow_emulator(sn_config), sn_sock))
    else:
        sn_sock.close()
    slack_config = SlackEmulatorConfig(
        bot_url=f"http://127.0.0.1:{bot_port}/slack/events",
        public_url=f"http://127.0.0.1:{slack_port}/",
        signing_secret=SECRET,
        bot_token=TOKEN,
        people=PEOPLE,
        now=clock.now,
    )
    runners.append(await serve(create_slack_emulator(slack_config), slack_sock))
    overrides = Overrides(
        clock=clock,
        tracker=None if servicenow else (tracker or FakeTracker()),
        teams=FakeChat(),
        directory=FakeDirectory(),
        run_background=background,
    )
    app = create_app(bot_settings, overrides)
    runners.append(await serve(app, bot_sock))
    return SlackStack(
        f"http://127.0.0.1:{bot_port}",
        f"http://127.0.0.1:{slack_port}",
        f"http://127.0.0.1:{sn_port}" if servicenow else None,
        clock,
        app,
        runners,
        aiohttp.ClientSession(),
    )
