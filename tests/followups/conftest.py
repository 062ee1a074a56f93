"""Helpers for the follow-up tests: recorded GitHub and Jira answers served by a tiny aiohttp app,
and the GitHub and Jira emulators on loopback with the real adapters pointed at them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.followups.github import GitHubConfig, GitHubFollowUps
from bot.followups.jira import JiraConfig, JiraFollowUps
from emulators import github, jira

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = "octokit-fixture-org/add-labels-to-issue"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def recorded(vendor: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / vendor / name).read_text(encoding="utf-8"))
    return document


def answer(document: dict[str, Any], **changes: Any) -> web.Response:
    """A recorded answer as the vendor sent it (``changes`` replace status, headers or body)."""
    document = {**document, **changes}
    if "body_text" in document:
        return web.Response(
            status=document["status"], text=document["body_text"], headers=document.get("headers")
        )
    headers = {k: v for k, v in (document.get("headers") or {}).items() if k.lower() != "content-type"}
    return web.json_response(document["body"], status=document["status"], headers=headers)


class Recorder:
    """Serves recorded answers by (method, path) and keeps each request with its JSON body."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = []

    def on(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def app(self) -> web.Application:
        async def dispatch(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            body = json.loads(raw) if raw else None
            self.requests.append(
                (request.method, request.path, dict(request.query), dict(request.headers), body)
            )
            handler = self.routes.get((request.method, request.path))
            if handler is None:
                return web.json_response({"message": "Not Found"}, status=404)
            return await handler(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", dispatch)
        return app

    def calls(self, method: str | None = None) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _, _ in self.requests if method is None or m == method]


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


async def drive(server: Any, method: str, path: str, body: Any = None) -> Any:
    """Call an emulator's driver API (``/_emulator/...``)."""
    async with aiohttp.ClientSession() as http:
        async with http.request(method, str(server.make_url(path)), json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()
