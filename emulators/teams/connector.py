"""Bot Connector REST API at /v3, as Teams answers it
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference).

Conversation ids arrive percent-encoded; aiohttp hands them over decoded. Placement follows the
conversation id only: "<channel>;messageid=<root>" is a reply in that thread, "<channel>" a new root
post. Errors are `{"error": {"code", "message"}}` with Teams codes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulators.teams.keys import EMULATOR
from emulators.teams.service import ConnectorError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def retry_after_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def connector_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def connector_call(handler: Handler) -> Handler:
    """Auth (when the bot has an app id), 429 injection and error rendering around one operation."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        emulator = request.app[EMULATOR]
        if not emulator.config.anonymous:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return connector_error(401, "Unauthorized", "Authorization has been denied for this request.")
        retry_after = emulator.take_throttle("connector")
        if retry_after is not None:
            return connector_error(
                429, "Throttled", "Too many requests.", {"Retry-After": retry_after_header(retry_after)}
            )
        try:
            return await handler(request)
        except ConnectorError as exc:
            return connector_error(exc.status, exc.code, exc.message)

    return wrapper


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ConnectorError(400, "BadArgument", "Request body is not JSON.") from exc
    if not isinstance(body, dict):
        raise ConnectorError(400, "BadArgument", "Request body must be a JSON object.")
    return body


async def _slow_answer(request: web.Request) -> None:
    """The ``connector_latency`` fault: the post has landed, its answer comes late (a bot that dies
    meanwhile never learns its id, as after a real timeout)."""
    latency = request.app[EMULATOR].connector_latency_s
    if latency:
        await asyncio.sleep(latency)


@connector_call
async def send_to_conversation(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    result = emulator.bot_send(request.match_info["conversation_id"], await _json_body(request))
    await _slow_answer(request)
    return web.json_response(result, status=201)


@connector_call
async def reply_to_activity(request: web.Request) -> web.StreamResponse:
    # The activity id in the path is only the parent; Teams places by the conversation id.
    emulator = request.app[EMULATOR]
    body = await _json_body(request)
    body.setdefault("replyToId", request.match_info["activity_id"])
    result = emulator.bot_send(request.match_info["conversation_id"], body)
    await _slow_answer(request)
    return web.json_response(result, status=201)


@connector_call
async def update_activity(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    result = emulator.bot_update(
        request.match_info["conversation_id"], request.match_info["activity_id"], await _json_body(request)
    )
    return web.json_response(result, status=200)


@connector_call
async def delete_activity(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.bot_delete(request.match_info["conversation_id"], request.match_info["activity_id"])
    return web.Response(status=200)


@connector_call
async def create_conversation(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    created = emulator.create_conversation(await _json_body(request))
    await _slow_answer(request)
    return web.json_response(created, status=201)


@connector_call
async def get_conversation_members(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.resolve(request.match_info["conversation_id"])
    members = [emulator.member(p.aad_object_id) for p in emulator.config.people]
    return web.json_response(members)


@connector_call
async def get_conversation_member(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.resolve(request.match_info["conversation_id"])
    member = emulator.member(request.match_info["member_id"])
    if member is None:
        # The SDK's members-added dispatch tolerates exactly this code.
        raise ConnectorError(404, "ConversationNotFound", "Member not found in conversation.")
    return web.json_response(member)


@connector_call
async def get_paged_members(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.resolve(request.match_info["conversation_id"])
    try:
        size = max(1, min(500, int(request.query.get("pageSize", "200"))))
        start = int(request.query.get("continuationToken") or 0)
    except ValueError as exc:
        raise ConnectorError(400, "BadArgument", "pageSize and continuationToken must be integers.") from exc
    people = emulator.config.people
    page = [emulator.member(p.aad_object_id) for p in people[start : start + size]]
    token = str(start + size) if start + size < len(people) else None
    return web.json_response({"continuationToken": token, "members": page})


@connector_call
async def get_team_conversations(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    return web.json_response({"conversations": emulator.team_conversations(request.match_info["team_id"])})


@connector_call
async def get_team_details(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.team_conversations(request.match_info["team_id"])  # 404 for an unknown team
    return web.json_response(
        {
            "id": emulator.state.team_thread_id,
            "name": emulator.config.team_name,
            "aadGroupId": emulator.config.team_id,
        }
    )


def add_routes(app: web.Application) -> None:
    conv = "/v3/conversations/{conversation_id}"
    app.router.add_post("/v3/conversations", create_conversation)
    app.router.add_post(conv + "/activities", send_to_conversation)
    app.router.add_post(conv + "/activities/{activity_id}", reply_to_activity)
    app.router.add_put(conv + "/activities/{activity_id}", update_activity)
    app.router.add_delete(conv + "/activities/{activity_id}", delete_activity)
    app.router.add_get(conv + "/members", get_conversation_members)
    app.router.add_get(conv + "/members/{member_id}", get_conversation_member)
    app.router.add_get(conv + "/pagedmembers", get_paged_members)
    app.router.add_get("/v3/teams/{team_id}/conversations", get_team_conversations)
    app.router.add_get("/v3/teams/{team_id}", get_team_details)
