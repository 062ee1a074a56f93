"""Fixtures for the follow-up tests: a recording server for recorded answers, and the GitHub and Jira
emulators on loopback with the real adapters pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fup_support import Recorder

from bot.followups.github import GitHubConfig, GitHubFollowUps
from bot.followups.jira import JiraConfig, JiraFollowUps
from emulators import github, jira


@pytest.fixture
async def recorder(aiohttp_server: Any) -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    server = await aiohttp_server(recorder.app())
    yield recorder, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def github_emulator(aiohttp_server: Any) -> Any:
    return await aiohttp_server(github.create_github_emulator(github.GitHubEmulatorConfig()))


@pytest.fixture
async def github_tracker(github_emulator: Any) -> AsyncIterator[GitHubFollowUps]:
    tracker = GitHubFollowUps(
        GitHubConfig(str(github_emulator.make_url("")).rstrip("/"), github.DEFAULT_TOKEN, github.DEFAULT_REPO)
    )
    yield tracker
    await tracker.close()


@pytest.fixture
async def jira_emulator(aiohttp_server: Any) -> Any:
    return await aiohttp_server(jira.create_jira_emulator(jira.JiraEmulatorConfig()))


@pytest.fixture
async def jira_tracker(jira_emulator: Any) -> AsyncIterator[JiraFollowUps]:
    tracker = JiraFollowUps(
        JiraConfig(
            str(jira_emulator.make_url("")).rstrip("/"),
            jira.DEFAULT_PROJECT,
            jira.BOT_EMAIL,
            jira.DEFAULT_API_TOKEN,
        )
    )
    yield tracker
    await tracker.close()
