"""Fixtures: the bot with Slack on, in-process; the Slack emulator as the Web API it looks people up in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_support import TOKEN, SlackBot, slack_settings
from testkit.databases import sqlite_url
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from emulators.slack import SlackEmulatorConfig, create_slack_emulator
from schedule.roster import export_roster_csv
from schedule.sample import sample_plan, sample_roster


@pytest.fixture
async def slack_emulator(aiohttp_server: Any) -> TestServer:
    """A Slack emulator whose Web API answers the bot's lookups (users.info, auth.test...)."""
    config = SlackEmulatorConfig(
        bot_url="http://127.0.0.1:9/slack/events", bot_token=TOKEN, now=lambda: SAMPLE_NOW
    )
    return await aiohttp_server(create_slack_emulator(config))


async def start_bot(aiohttp_client: Any, database_url: str, api_url: str, **settings: Any) -> SlackBot:
    clock = FrozenClock(SAMPLE_NOW)
    tracker, chat = FakeTracker(), FakeChat("slack")
    app = create_app(
        slack_settings(database_url, api_url, **settings),
        Overrides(
            clock=clock,
            tracker=tracker,
            teams=FakeChat(),
            slack=chat,
            directory=FakeDirectory(),
            run_background=False,
        ),
    )
    client = await aiohttp_client(app)
    runtime = app[RUNTIME]
    async with runtime.store.write() as connection:
        await records.save_plan(connection, sample_plan(), SAMPLE_NOW)
        await records.save_roster_csv(
            runtime.store, connection, export_roster_csv(sample_roster()), SAMPLE_NOW
        )
    return SlackBot(client, runtime, tracker, chat)


@pytest.fixture
async def slack_bot(
    aiohttp_client: Any, tmp_path: Any, slack_emulator: TestServer
) -> AsyncIterator[SlackBot]:
    yield await start_bot(aiohttp_client, sqlite_url(tmp_path), str(slack_emulator.make_url("/api/")))
