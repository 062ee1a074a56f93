"""Helpers for the follow-up tests (a uniquely named module: test folders have no __init__):
GitHub's and Jira's recorded answers, a recording server for them, and the emulators' driver API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

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


async def drive(server: Any, method: str, path: str, body: Any = None) -> Any:
    """Call an emulator's driver API (``/_emulator/...``)."""
    async with aiohttp.ClientSession() as http:
        async with http.request(method, str(server.make_url(path)), json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()
