"""The Web API's HTTP face: `/api/{method}` with Slack's envelope, auth and fault injection.

Arguments come from the query string and, on POST, from a JSON or form body (Slack accepts both;
slack_sdk sends JSON for chat.* and query parameters for reads). The token is the bearer header or
a `token` argument. Every failure Slack reports in the body is HTTP 200 `{"ok": false, "error"}`;
the exceptions are 429 (rate limit, with `Retry-After`), injected HTTP faults, and `unknown_method`
(404). Calls are counted for `GET /_emulator/calls`; the log never holds argument values.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from emulators.slack.errors import ApiError
from emulators.slack.keys import EMULATOR
from emulators.slack.web_methods import METHODS, NO_AUTH

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"
# Argument values safe to keep in the call log: ids only, never text.
_ID_ARGS = ("channel", "ts", "thread_ts", "message_ts", "user", "cursor", "limit", "trigger_id", "email")


def _answer(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body),
        status=status,
        content_type=JSON_TYPE,
        charset="utf-8",
        headers=headers,
    )


async def read_args(request: web.Request) -> dict[str, Any]:
    """Query parameters merged with the body's arguments (the body wins, as on Slack)."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "multipart/form-data":
        try:
            form = await request.post()
        except ValueError as exc:
            raise ApiError("invalid_form_data") from exc
        return args | {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.read()
    if not raw:
        return args
    if request.content_type == JSON_TYPE:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(body, dict):
            raise ApiError("json_not_object")
        return args | body
    if request.content_type in ("application/x-www-form-urlencoded", "application/octet-stream", ""):
        try:
            return args | dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise ApiError("invalid_charset") from exc
    raise ApiError("invalid_form_data")


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    token = args.get("token")
    return token if isinstance(token, str) and token else None


async def api_call(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    method = request.match_info["method"]
    started = time.time()
    status, body, headers = await _handle(request, method)
    entry: dict[str, Any] = {
        "method": method,
        "http_status": status,
        "ok": bool(body.get("ok")),
        "at": started,
        "args": body.pop("_args", {}),
    }
    if not body.get("ok"):
        entry["error"] = body.get("error")
    emu.calls.append(entry)
    log.info("slack api %s -> %s %s", method, status, body.get("error", "ok"))
    return _answer(body, status, headers)


async def _handle(request: web.Request, method: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    emu = request.app[EMULATOR]
    if emu.faults.latency_s:
        await asyncio.sleep(emu.faults.latency_s)
    handler = METHODS.get(method)
    if handler is None:
        return 404, {"ok": False, "error": "unknown_method", "req_method": method}, {}
    try:
        args = await read_args(request)
    except ApiError as exc:
        return 200, exc.body(), {}
    logged = {k: str(args[k])[:64] for k in _ID_ARGS if isinstance(args.get(k), str | int)}
    token = _token(request, args)
    args.pop("token", None)
    if method not in NO_AUTH:
        if token is None:
            return 200, {"ok": False, "error": "not_authed", "_args": logged}, {}
        if token != emu.config.bot_token:
            return 200, {"ok": False, "error": "invalid_auth", "_args": logged}, {}
    refusal = emu.faults.check(method)
    if refusal is not None:
        return refusal.status, {"ok": False, "error": refusal.error, "_args": logged}, dict(refusal.headers)
    try:
        answer = handler(emu, args)
    except ApiError as exc:
        return 200, exc.body() | {"_args": logged}, {}
    return 200, answer | {"_args": logged}, {}


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/api/{method}", api_call)
    app.router.add_route("POST", "/api/{method}", api_call)
