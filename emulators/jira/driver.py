"""The driver API under ``/_emulator`` (no auth), and a plain page for each issue at ``/browse/{key}``.

``GET /_emulator/issues``           every issue (key, summary, description text, labels...)
``GET|DELETE /_emulator/calls``     method, path and status of recent API calls
``POST /_emulator/reset``           no issues, no faults, empty call log
``GET|POST|DELETE /_emulator/faults`` see :mod:`emulators.injected_faults` (a ``rate_limit``
                                    refusal is 429 with ``Retry-After``)
``GET /browse/{key}``               an HTML page, so links the product shows can be opened
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from emulators.injected_faults import add_fault_routes
from emulators.jira.api import CALLS_KEY, FAULTS_KEY, STORE_KEY
from emulators.jira.jql import adf_text
from emulators.jira.store import JiraIssue

__all__ = ["add_driver_routes"]


def _issue_view(issue: JiraIssue) -> dict[str, Any]:
    return {
        "id": str(issue.id),
        "key": issue.key,
        "project": issue.project,
        "issuetype": issue.issuetype,
        "summary": issue.summary,
        "description": issue.description,
        "description_text": adf_text(issue.description),
        "labels": list(issue.labels),
        "reporter": issue.reporter,
        "assignee": issue.assignee,
        "priority": issue.priority,
        "status": issue.status,
        "created": issue.created,
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
    return web.json_response({})


async def browse(request: web.Request) -> web.Response:
    issue = request.app[STORE_KEY].get(request.match_info["key"])
    if issue is None:
        return web.Response(status=404, text="Issue does not exist or you do not have permission to see it.")
    page = (
        f"<!doctype html><title>[{html.escape(issue.key)}] {html.escape(issue.summary)}</title>"
        f"<h1>{html.escape(issue.key)}: {html.escape(issue.summary)}</h1>"
        f"<p>{html.escape(issue.status)} · labels: {html.escape(', '.join(issue.labels) or 'none')}</p>"
        f"<pre>{html.escape(adf_text(issue.description))}</pre>"
    )
    return web.Response(text=page, content_type="text/html")


def add_driver_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/issues", list_all_issues)
    app.router.add_get("/_emulator/calls", get_calls)
    app.router.add_delete("/_emulator/calls", delete_calls)
    app.router.add_post("/_emulator/reset", reset)
    add_fault_routes(app, FAULTS_KEY)
    app.router.add_get("/browse/{key}", browse)
