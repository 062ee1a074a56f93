"""The driver API under /_emulator (docs/CONTRACTS.md section 8), used by the console, tests and checks.

Delivery answers carry the bot's HTTP status; when the bot cannot be reached the status is 502 and
the post is still recorded (people's posts exist in Teams whether or not a bot heard them).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulators.teams.config import Throttle
from emulators.teams.keys import EMULATOR
from emulators.teams.service import DriverError, EmulatorError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def driver_call(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except EmulatorError as exc:
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


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DriverError(400, "'text' must be a non-empty string")
    return text


@driver_call
async def list_channels(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].channels_view())


@driver_call
async def list_threads(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].threads_view(request.match_info["channel_id"]))


@driver_call
async def post_message(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _body(request)
    sender = emulator.sender(body.get("from"))
    reply_to = body.get("replyToId")
    post, status, _ = await emulator.post_in_channel(
        request.match_info["channel_id"], sender, _text(body), str(reply_to) if reply_to else None
    )
    return web.json_response({"id": post.id, "status": status, "rootId": post.root_id or post.id})


@driver_call
async def edit_message(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _body(request)
    message_id = request.match_info["message_id"]
    status, _ = await emulator.edit_post(request.match_info["channel_id"], message_id, _text(body))
    return web.json_response({"id": message_id, "status": status})


@driver_call
async def delete_message(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    message_id = request.match_info["message_id"]
    status, _ = await emulator.delete_post(request.match_info["channel_id"], message_id)
    return web.json_response({"id": message_id, "status": status})


@driver_call
async def list_people(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].people_view())


@driver_call
async def raw_activity(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    activity = await _body(request)
    emulator.record_raw(activity)
    status, body = await emulator.deliver(activity)
    return web.json_response({"status": status, "body": body})


@driver_call
async def press_action(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _body(request)
    activity_id, verb, data = body.get("activityId"), body.get("verb"), body.get("data") or {}
    if not activity_id or not isinstance(verb, str) or not isinstance(data, dict):
        raise DriverError(400, "need 'activityId', 'verb' and an object 'data'")
    sender = emulator.sender(body.get("from"), default_role="engineer")
    status, answer = await emulator.press(str(activity_id), verb, data, sender)
    return web.json_response({"status": status, "body": answer})


@driver_call
async def personal_message(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _body(request)
    sender = emulator.sender(body.get("from"))
    post, status, _ = await emulator.post_in_chat(sender, _text(body))
    return web.json_response({"id": post.id, "status": status, "conversationId": post.conversation})


@driver_call
async def personal_transcript(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].chat_view(request.match_info["aad_object_id"]))


@driver_call
async def install(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _body(request)
    sender = emulator.sender(body.get("from"), default_role="manager")
    status, answer = await emulator.install(sender)
    return web.json_response({"status": status, "body": answer})


def _faults_view(request: web.Request) -> dict[str, Any]:
    emulator = request.app[EMULATOR]
    view: dict[str, Any] = {
        f"{target}_throttle": {"count": rule.count, "retry_after": rule.retry_after} if rule else None
        for target, rule in emulator.throttles.items()
    }
    view["connector_latency_ms"] = round(emulator.connector_latency_s * 1000)
    return view


@driver_call
async def get_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response(_faults_view(request))


@driver_call
async def set_faults(request: web.Request) -> web.StreamResponse:
    """Merge {"connector_throttle": {"count", "retry_after"}, "graph_throttle": ...,
    "connector_latency_ms": N} (null clears one)."""
    emulator = request.app[EMULATOR]
    body = await _body(request)
    for key, value in body.items():
        if key == "connector_latency_ms":
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 60_000
            ):
                raise DriverError(400, "connector_latency_ms must be a number of milliseconds (0-60000)")
            emulator.connector_latency_s = (value or 0) / 1000
            continue
        target = key.removesuffix("_throttle")
        if target not in emulator.throttles or not key.endswith("_throttle"):
            raise DriverError(400, f"unknown fault {key!r}; use connector_throttle or graph_throttle")
        if value is None:
            emulator.throttles[target] = None
            continue
        try:
            rule = Throttle(int(value.get("count", 1)), float(value.get("retry_after", 1)))
        except (AttributeError, TypeError, ValueError) as exc:
            raise DriverError(400, f"{key} needs numeric count and retry_after") from exc
        emulator.throttles[target] = rule
    return web.json_response(_faults_view(request))


@driver_call
async def clear_faults(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    for target in emulator.throttles:
        emulator.throttles[target] = None
    emulator.connector_latency_s = 0.0
    return web.json_response(_faults_view(request))


@driver_call
async def list_deliveries(request: web.Request) -> web.StreamResponse:
    return web.json_response(list(request.app[EMULATOR].deliveries))


async def openid_configuration(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    return web.json_response(emulator.issuer.openid_configuration(emulator.config.service_url))


async def jwks(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[EMULATOR].issuer.jwks())


def add_routes(app: web.Application) -> None:
    channel = "/_emulator/channels/{channel_id}"
    app.router.add_get("/_emulator/channels", list_channels)
    app.router.add_get(channel + "/threads", list_threads)
    app.router.add_post(channel + "/messages", post_message)
    app.router.add_patch(channel + "/messages/{message_id}", edit_message)
    app.router.add_delete(channel + "/messages/{message_id}", delete_message)
    app.router.add_get("/_emulator/people", list_people)
    app.router.add_post("/_emulator/activities", raw_activity)
    app.router.add_post("/_emulator/actions", press_action)
    app.router.add_post("/_emulator/personal/messages", personal_message)
    app.router.add_get("/_emulator/personal/{aad_object_id}", personal_transcript)
    app.router.add_post("/_emulator/install", install)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", set_faults)
    app.router.add_delete("/_emulator/faults", clear_faults)
    app.router.add_get("/_emulator/deliveries", list_deliveries)
    app.router.add_get("/v1/.well-known/openidconfiguration", openid_configuration)
    app.router.add_get("/v1/.well-known/keys", jwks)
