"""The driver API under ``/_emulator`` (no auth), and a plain page for each issue's ``html_url``.

``GET /_emulator/issues``           every issue of every repository (title, body, labels, comments)
``GET|DELETE /_emulator/calls``     method, path and status of recent API calls
``POST /_emulator/reset``           no issues, no faults, empty call log, fresh rate-limit windows
``GET|POST|DELETE /_emulator/faults`` see :mod:`emulators.injected_faults` and
                                    :mod:`emulators.github.gateway` (``rate_limit.kind|status``)
``GET /{owner}/{repo}/issues/{number}``  an HTML page, so links the product shows can be opened
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from emulators.github.gateway import CALLS_KEY, FAULTS_KEY, RATES_KEY, STORE_KEY
from emulators.github.store import Issue
from emulators.injected_faults import add_fault_routes

__all__ = ["add_driver_routes"]


def _issue_view(issue: Issue) -> dict[str, Any]:
    return {
        "repo": issue.repo,
        "number": issue.number,
        "id": issue.id,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "labels": list(issue.labels),
        "assignees": list(issue.assignees),
        "user": issue.user,
        "created_at": issue.created_at,
        "comments": [{"id": c.id, "user": c.user, "body": c.body} for c in issue.comments],
    }


async def list_all_issues(request: web.Request) -> web.Response:
    return web.json_response([_issue_view(i) for i in request.app[STORE_KEY].issues])


async def get_calls(request: web.Request) -> web.Response:
    return web.json_response(request.app[CALLS_KEY].view())


async def delete_calls(request: web.Request) -> web.Response:
    request.app[CALLS_KEY].clear()
    return web.json_response([])


async def reset(request: web.Request) -> web.Response:
    request.app[STORE_KEY].reset()
    request.app[FAULTS_KEY].clear()
    request.app[CALLS_KEY].clear()
    request.app[RATES_KEY].clear()
    return web.json_response({})


async def issue_page(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    repo = store.repo(request.match_info["owner"], request.match_info["repo"])
    issue = None
    if repo is not None and request.match_info["number"].isdigit():
        issue = store.get(repo, int(request.match_info["number"]))
    if repo is None or issue is None:
        return web.Response(status=404, text="Not Found")
    comments = "".join(
        f"<li><b>{html.escape(c.user)}</b>: {html.escape(c.body)}</li>" for c in issue.comments
    )
    page = (
        f"<!doctype html><title>{html.escape(issue.title)} · #{issue.number}</title>"
        f"<h1>{html.escape(issue.title)} <small>#{issue.number} ({issue.state})</small></h1>"
        f"<p>{html.escape(issue.repo)} · opened by {html.escape(issue.user)} · labels: "
        f"{html.escape(', '.join(issue.labels) or 'none')}</p>"
        f"<pre>{html.escape(issue.body or '')}</pre><ul>{comments}</ul>"
    )
    return web.Response(text=page, content_type="text/html")


def add_driver_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/issues", list_all_issues)
    app.router.add_get("/_emulator/calls", get_calls)
    app.router.add_delete("/_emulator/calls", delete_calls)
    app.router.add_post("/_emulator/reset", reset)
    add_fault_routes(app, FAULTS_KEY)
    app.router.add_get("/{owner}/{repo}/issues/{number:\\d+}", issue_page, name="issue_page")
