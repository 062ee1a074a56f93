"""The sandbox's alert console: a small page on the bot (``GET /_sandbox/alerts``) whose buttons fire
signed sample alerts of each source at the bot's own ``/alerts/{source}``, so a demo shows the whole
flow (incident, post in ``APM Alerts``, count, recovery) without any monitoring tool.

Development only: the sandbox installs it; ``golive serve`` never does. The same samples are one
command away: ``golive alerts send-sample SOURCE [--group G] [--state S]``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from bot.alerts.model import SOURCES, Source
from bot.alerts.samples import DEFAULT_GROUPS, SAMPLE_STATES, sample_payload

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sample alerts - Go Live Bridge sandbox</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:52rem}}form{{margin:.4rem 0}}
button{{margin-right:.4rem}}code{{background:#eee;padding:0 .2rem}}</style></head>
<body><h1>Sample monitoring alerts</h1>
<p>Each button sends one signed delivery to this bot's <code>/alerts/SOURCE</code>, as the vendor
would. The same group again is a repeat (the post's count grows); <em>recovered</em> or
<em>resolved</em> ends it. Watch the <strong>APM Alerts</strong> channel in the Teams console and the
ServiceNow queue.</p>
{forms}
<p id="result">{result}</p></body></html>"""


def _forms() -> str:
    rows = []
    for source in SOURCES:
        kind = "sentry issue" if source == "sentry" else source
        buttons = "".join(
            f'<button name="state" value="{state}">{state}</button>' for state in SAMPLE_STATES[kind]
        )
        rows.append(
            f'<form method="post" action="/_sandbox/alerts/{source}"><strong>{source}</strong> '
            f'group <input name="group" value="{DEFAULT_GROUPS[source]}" size="28"> {buttons}</form>'
        )
    return "\n".join(rows)


def install(app: web.Application, bot_url: str, secrets: Mapping[Source, str]) -> None:
    """Add the console page and its sender to the bot ``app`` (which serves at ``bot_url``)."""

    async def page(request: web.Request) -> web.Response:
        result = html.escape(request.query.get("result", ""))
        return web.Response(text=_PAGE.format(forms=_forms(), result=result), content_type="text/html")

    async def send(request: web.Request) -> web.Response:
        source = request.match_info["source"]
        if source not in SOURCES:
            raise web.HTTPNotFound()
        form = await request.post()
        group = str(form.get("group") or "") or None
        state = str(form.get("state") or "triggered")
        try:
            headers, body, query = sample_payload(
                source,
                secret=secrets[source],
                now=datetime.now(UTC),
                group=group,
                state=state,  # type: ignore[arg-type]
            )
        except ValueError as error:
            raise web.HTTPFound(f"/_sandbox/alerts?result={error}") from None
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{bot_url}/alerts/{source}", data=body, headers=headers, params=query
            ) as response:
                status = response.status
        raise web.HTTPFound(f"/_sandbox/alerts?result={source} {state} {group or ''}: HTTP {status}")

    app.router.add_get("/_sandbox/alerts", page)
    app.router.add_post("/_sandbox/alerts/{source}", send)
