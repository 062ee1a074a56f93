"""The driver API under /_emulator (docs/CONTRACTS.md section 8), used by the console, tests and checks.

Delivery answers carry the bot's HTTP status (`BOT_UNREACHABLE` 502 / `BOT_TIMEOUT` 504 when it
did not answer); a message is kept whether or not the bot heard it. Every delivery endpoint takes
optional `"signature": "valid" | "invalid" | "missing"` and `"timestamp_skew_s": N` to exercise the
bot's verification. Mistakes in a call get 4xx `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulators.slack.delivery import Signing
from emulators.slack.errors import DriverError
from emulators.slack.faults import FaultError
from emulators.slack.keys import EMULATOR
from emulators.slack.model import TS_PATTERN

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]*[a-z0-9][a-z0-9_-]*$")
RETRY_REASONS = (
    "http_timeout",
    "too_many_redirects",
    "connection_failed",
    "ssl_error",
    "http_error",
    "unknown_error",
)


def driver_call(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DriverError as exc:
            return web.json_response({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)

    return wrapper


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise DriverError(400, "body is not JSON") from exc
    if not isinstance(body, dict):
        raise DriverError(400, "body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str = "text") -> str:
    text = body.get(name)
    if not isinstance(text, str) or not text.strip():
        raise DriverError(400, f"'{name}' must be a non-empty string")
    return text


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DriverError(400, f"'{name}' must be a string")
    return value


def _signing(body: dict[str, Any]) -> Signing:
    mode = body.get("signature", "valid")
    skew = body.get("timestamp_skew_s", 0)
    if mode not in ("valid", "invalid", "missing"):
        raise DriverError(400, "'signature' must be valid, invalid or missing")
    if isinstance(skew, bool) or not isinstance(skew, int):
        raise DriverError(400, "'timestamp_skew_s' must be an integer")
    return Signing(mode, skew)


@driver_call
async def list_channels(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].channels_view())


@driver_call
async def create_channel(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    name = _text(body, "name")
    if not CHANNEL_NAME.match(name) or len(name) > 80:
        raise DriverError(400, "Slack channel names are lowercase letters, digits, - and _, at most 80")
    if emu.state.channel_by_name(name) is not None:
        raise DriverError(409, f"a channel named {name!r} exists")
    creator = emu.driver_person(body.get("user"), default_role="manager")
    channel = emu.create_channel(name, creator.user_id, bot_member=bool(body.get("bot_member", True)))
    return web.json_response({"id": channel.id, "name": channel.name, "is_archived": False}, status=201)


@driver_call
async def list_messages(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].messages_view(request.match_info["channel_id"]))


@driver_call
async def post_message(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    person = emu.driver_person(body.get("user"))
    result = await emu.post_as_person(
        request.match_info["channel_id"],
        person,
        _text(body),
        _optional_str(body, "thread_ts"),
        _signing(body),
    )
    return web.json_response(result)


@driver_call
async def edit_message(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    result = await emu.edit_as_person(
        request.match_info["channel_id"], request.match_info["ts"], _text(body), _signing(body)
    )
    return web.json_response(result)


@driver_call
async def delete_message(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    result = await emu.delete_as_person(
        request.match_info["channel_id"], request.match_info["ts"], _signing(body)
    )
    return web.json_response(result)


@driver_call
async def add_member(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    person = emu.driver_person(body.get("user"))
    return web.json_response(await emu.add_member(request.match_info["channel_id"], person, _signing(body)))


@driver_call
async def press_action(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    channel, message_ts, action_id = body.get("channel"), body.get("message_ts"), body.get("action_id")
    if not isinstance(channel, str) or not isinstance(message_ts, str) or not isinstance(action_id, str):
        raise DriverError(400, "need string 'channel', 'message_ts' and 'action_id'")
    person = emu.driver_person(body.get("user"), default_role="engineer")
    status, answer = await emu.press(
        channel, message_ts, action_id, person, _optional_str(body, "value"), _signing(body)
    )
    return web.json_response({"status": status, "body": answer})


@driver_call
async def slash_command(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    channel = body.get("channel") or (emu.config.channels[0] if emu.config.channels else None)
    if not isinstance(channel, str):
        raise DriverError(400, "'channel' must be a channel id or name")
    text = body.get("text", "")
    if not isinstance(text, str):
        raise DriverError(400, "'text' must be a string")
    command = body.get("command", emu.config.slash_command)
    if not isinstance(command, str) or not command.startswith("/"):
        raise DriverError(400, "'command' must start with /")
    person = emu.driver_person(body.get("user"))
    status, answer = await emu.slash(channel, person, text, command, _signing(body))
    return web.json_response({"status": status, "body": answer})


@driver_call
async def redeliver(request: web.Request) -> web.StreamResponse:
    """Re-send an earlier event: same event_id with retry headers, or (new_event_id) a duplicate."""
    emu = request.app[EMULATOR]
    body = await _body(request)
    event_id = body.get("event_id") or emu.link.last_event_id()
    if not isinstance(event_id, str):
        raise DriverError(400, "'event_id' must name an event the emulator sent")
    signing = _signing(body)
    if body.get("new_event_id"):
        new_id, result = await emu.link.resend_as_new(event_id, signing)
        return web.json_response({"status": result.status, "event_id": new_id, "duplicate_of": event_id})
    retry_num = body.get("retry_num", 1)
    reason = body.get("retry_reason", "http_timeout")
    if isinstance(retry_num, bool) or not isinstance(retry_num, int) or not 1 <= retry_num <= 3:
        raise DriverError(400, "'retry_num' must be 1, 2 or 3")
    if reason not in RETRY_REASONS:
        raise DriverError(400, f"'retry_reason' must be one of {', '.join(RETRY_REASONS)}")
    result = await emu.link.redeliver(event_id, retry_num, reason, signing)
    return web.json_response({"status": result.status, "event_id": event_id, "retry_num": retry_num})


@driver_call
async def url_verification(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    body = await _body(request)
    challenge, result = await emu.send_url_verification(_signing(body))
    answer = result.body
    echoed = answer.get("challenge") if isinstance(answer, dict) else answer
    return web.json_response({"status": result.status, "body": answer, "challenge_ok": echoed == challenge})


@driver_call
async def list_people(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].people_view())


@driver_call
async def list_ephemeral(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    return web.json_response(emu.ephemeral_view(request.query.get("user"), request.query.get("channel")))


@driver_call
async def list_views(request: web.Request) -> web.StreamResponse:
    return web.json_response(list(request.app[EMULATOR].views))


@driver_call
async def list_deliveries(request: web.Request) -> web.StreamResponse:
    return web.json_response(list(request.app[EMULATOR].link.deliveries))


@driver_call
async def list_calls(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    method = request.query.get("method")
    calls = [c for c in emu.calls if method is None or c["method"] == method]
    counts: dict[str, int] = {}
    for call in emu.calls:
        counts[call["method"]] = counts.get(call["method"], 0) + 1
    return web.json_response({"calls": calls, "counts": counts})


@driver_call
async def clear_calls(request: web.Request) -> web.StreamResponse:
    request.app[EMULATOR].calls.clear()
    return web.json_response({"calls": [], "counts": {}})


@driver_call
async def get_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].faults.active)


@driver_call
async def set_faults(request: web.Request) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    try:
        return web.json_response(emu.faults.merge(await _body(request)))
    except FaultError as exc:
        raise DriverError(400, str(exc)) from exc


@driver_call
async def clear_faults(request: web.Request) -> web.StreamResponse:
    request.app[EMULATOR].faults.clear()
    return web.json_response({})


@driver_call
async def reset(request: web.Request) -> web.StreamResponse:
    request.app[EMULATOR].reset()
    return web.json_response({"reset": True})


async def response_url(request: web.Request) -> web.StreamResponse:
    """A `response_url` the emulator handed out with an interaction or slash command."""
    emu = request.app[EMULATOR]
    target = emu.response_urls.get(request.match_info["token"])
    if target is None:
        return web.json_response({"ok": False, "error": "expired_url"}, status=404)
    try:
        answer = await request.json()
    except ValueError:
        return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
    if not isinstance(answer, dict):
        return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
    emu.respond(target["channel"], target["user"], target.get("message_ts"), target.get("thread_ts"), answer)
    return web.json_response({"ok": True})


async def permalink(request: web.Request) -> web.StreamResponse:
    """`chat.getPermalink` links point here; open the console at that channel."""
    channel, p = request.match_info["channel"], request.match_info["p"]
    digits = p.removeprefix("p")
    ts = f"{digits[:-6]}.{digits[-6:]}" if digits.isdigit() and len(digits) > 6 else ""
    target = f"/?channel={channel}" + (f"#{ts}" if TS_PATTERN.match(ts) else "")
    raise web.HTTPFound(target)


def add_routes(app: web.Application) -> None:
    channel = "/_emulator/channels/{channel_id}"
    app.router.add_get("/_emulator/channels", list_channels)
    app.router.add_post("/_emulator/channels", create_channel)
    app.router.add_get(channel + "/messages", list_messages)
    app.router.add_post(channel + "/messages", post_message)
    app.router.add_post(channel + "/messages/{ts}/edit", edit_message)
    app.router.add_post(channel + "/messages/{ts}/delete", delete_message)
    app.router.add_post(channel + "/members", add_member)
    app.router.add_post("/_emulator/actions", press_action)
    app.router.add_post("/_emulator/slash", slash_command)
    app.router.add_post("/_emulator/redeliver", redeliver)
    app.router.add_post("/_emulator/url_verification", url_verification)
    app.router.add_get("/_emulator/people", list_people)
    app.router.add_get("/_emulator/ephemeral", list_ephemeral)
    app.router.add_get("/_emulator/views", list_views)
    app.router.add_get("/_emulator/deliveries", list_deliveries)
    app.router.add_get("/_emulator/calls", list_calls)
    app.router.add_delete("/_emulator/calls", clear_calls)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", set_faults)
    app.router.add_delete("/_emulator/faults", clear_faults)
    app.router.add_post("/_emulator/reset", reset)
    app.router.add_post("/_emulator/response_url/{token}", response_url)
    app.router.add_get("/archives/{channel}/{p}", permalink)
