"""Fixtures: the bot with Slack on, in-process; the Slack emulator as the Web API it looks people up in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from slack_support import TOKEN, SlackBot, start_bot
from testkit.databases import sqlite_url
from testkit.stack import SAMPLE_NOW

from emulators.slack import SlackEmulatorConfig, create_slack_emulator


@pytest.fixture
async def slack_emulator(aiohttp_server: Any) -> TestServer:
    """A Slack emulator whose Web API answers the bot's lookups (users.info, auth.test...)."""
    config = SlackEmulatorConfig(
        bot_url="http://127.0.0.1:9/slack/events", bot_token=TOKEN, now=lambda: SAMPLE_NOW
    )
    return await aiohttp_server(create_slack_emulator(config))


@pytest.fixture
async def slack_bot(
    aiohttp_client: Any, tmp_path: Any, slack_emulator: TestServer
) -> AsyncIterator[SlackBot]:
    yield await start_bot(aiohttp_client, sqlite_url(tmp_path), str(slack_emulator.make_url("/api/")))
