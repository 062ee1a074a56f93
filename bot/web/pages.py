"""Small pages every deployment serves: liveness, readiness, and the app's policy pages.

``/readyz`` also says whether this replica leads the schedule and which replica does:
``{"status", "reason", "leader": true|false, "replica", "leader_replica", "leader_since"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.leadership import LeaderStatus

Readiness = Callable[[], Awaitable[tuple[bool, str]]]

POLICY_TEXT = {
    "/privacy": (
        "Privacy",
        "Go Live Bridge copies what site staff post in go-live channels into ServiceNow incidents for "
        "product support. It keeps the posts, their authors' names and Entra object ids in its own "
        "database for the go-live period, never writes message text to logs, and warns when a post "
        "looks like it holds a Social Security number or a date of birth. Please never post patient data.",
    ),
    "/terms": (
        "Terms of use",
        "For VA staff supporting the eCheck-in go-live. Support requests are handled as ServiceNow "
        "incidents under the normal product support terms.",
    ),
    "/support": (
        "Support",
        "Post in your site's Go Live channel during your go-live week; afterwards, raise a ServiceNow "
        "incident for the product.",
    ),
}


async def policy_page(request: web.Request) -> web.Response:
    title, text = POLICY_TEXT[request.path]
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Go Live Bridge: {title}</title>"
        f"<body style='font-family:system-ui;max-width:40rem;margin:2rem auto'><h1>{title}</h1><p>{text}</p>"
    )
    return web.Response(text=body, content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def install(app: web.Application, readiness: Readiness, leadership: LeaderStatus | None = None) -> None:
    async def readyz(request: web.Request) -> web.Response:
        ready, reason = await readiness()
        body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "reason": reason}
        body.update((await leadership.report()).to_json() if leadership else {"leader": False})
        return web.json_response(body, status=200 if ready else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for path in POLICY_TEXT:
        app.router.add_get(path, policy_page)
