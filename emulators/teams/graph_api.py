"""Microsoft Graph v1.0 for the one emulated team (https://learn.microsoft.com/graph/api/resources/channel).

Errors are `{"error": {"code", "message", "innerError": {"request-id", "date", "client-request-id"}}}`;
429 carries `Retry-After` (possibly fractional) and Graph's TooManyRequests body.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from emulators.teams.connector import retry_after_header
from emulators.teams.keys import EMULATOR
from emulators.teams.model import Channel, Post, iso_z
from emulators.teams.service import GraphApiError, TeamsEmulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GRAPH = "https://graph.microsoft.com/v1.0"
EQ_FILTER = re.compile(r"^\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*$")
STARTSWITH_FILTER = re.compile(r"^\s*startswith\(\s*displayName\s*,\s*'((?:[^']|'')*)'\s*\)\s*$")


def graph_error(
    request: web.Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    inner: dict[str, Any] = {"request-id": str(uuid.uuid4()), "date": iso_z(datetime.now(UTC))}
    if "client-request-id" in request.headers:
        inner["client-request-id"] = request.headers["client-request-id"]
    if status == 429:
        inner |= {"code": "429", "message": "Please retry after", "status": "429"}
    body = {"error": {"code": code, "message": message, "innerError": inner}}
    return web.json_response(body, status=status, headers=headers)


def graph_call(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        emulator = request.app[EMULATOR]
        if not emulator.config.anonymous:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return graph_error(request, 401, "InvalidAuthenticationToken", "Access token is empty.")
        retry_after = emulator.take_throttle("graph")
        if retry_after is not None:
            return graph_error(
                request,
                429,
                "TooManyRequests",
                "Please retry again later.",
                {"Retry-After": retry_after_header(retry_after)},
            )
        try:
            if "team_id" in request.match_info:
                emulator.check_team(request.match_info["team_id"])
            return await handler(request)
        except GraphApiError as exc:
            return graph_error(request, exc.status, exc.code, exc.message)

    return wrapper


def team_json(emulator: TeamsEmulator) -> dict[str, Any]:
    config = emulator.config
    return {
        "id": config.team_id,
        "createdDateTime": emulator.state.channels[emulator.state.team_thread_id].created,
        "displayName": config.team_name,
        "description": f"{config.team_name} support channels",
        "internalId": emulator.state.team_thread_id,
        "isArchived": False,
        "tenantId": config.tenant_id,
        "visibility": "private",
        "webUrl": f"https://teams.microsoft.com/l/team/{quote(emulator.state.team_thread_id, safe='')}"
        f"/conversations?groupId={config.team_id}&tenantId={config.tenant_id}",
    }


def channel_json(emulator: TeamsEmulator, channel: Channel) -> dict[str, Any]:
    config = emulator.config
    return {
        "id": channel.id,
        "createdDateTime": channel.created,
        "displayName": channel.display_name,
        "description": channel.description or None,
        "isFavoriteByDefault": None,
        "email": "",
        "tenantId": config.tenant_id,
        "webUrl": f"https://teams.microsoft.com/l/channel/{quote(channel.id, safe='')}/"
        f"{quote(channel.display_name)}?groupId={config.team_id}&tenantId={config.tenant_id}",
        "membershipType": "standard",
        "isArchived": channel.state == "archived",
    }


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise GraphApiError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphApiError(400, "BadRequest", "The request body must be a JSON object.")
    return body


@graph_call
async def list_teams(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    return web.json_response({"@odata.context": f"{GRAPH}/$metadata#teams", "value": [team_json(emulator)]})


@graph_call
async def get_team(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    return web.json_response({"@odata.context": f"{GRAPH}/$metadata#teams/$entity"} | team_json(emulator))


@graph_call
async def list_channels(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    channels = emulator.state.live_channels()
    flt = request.query.get("$filter")
    if flt:
        if m := EQ_FILTER.match(flt):
            wanted = m.group(1).replace("''", "'")
            channels = [c for c in channels if c.display_name == wanted]
        elif m := STARTSWITH_FILTER.match(flt):
            prefix = m.group(1).replace("''", "'").casefold()
            channels = [c for c in channels if c.display_name.casefold().startswith(prefix)]
        else:
            raise GraphApiError(400, "BadRequest", f"Invalid filter clause: {flt}")
    team_id = emulator.config.team_id
    return web.json_response(
        {
            "@odata.context": f"{GRAPH}/$metadata#teams('{team_id}')/channels",
            "@odata.count": len(channels),
            "value": [channel_json(emulator, c) for c in channels],
        }
    )


@graph_call
async def create_channel(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    body = await _json_body(request)
    membership = body.get("membershipType", "standard")
    if membership != "standard":
        raise GraphApiError(400, "BadRequest", "The emulator supports standard channels only.")
    name, description = body.get("displayName"), body.get("description") or ""
    if not isinstance(name, str):
        raise GraphApiError(400, "BadRequest", "Channel displayName is required.")
    channel = emulator.create_channel(name, description)
    team_id = emulator.config.team_id
    return web.json_response(
        {"@odata.context": f"{GRAPH}/$metadata#teams('{team_id}')/channels/$entity"}
        | channel_json(emulator, channel),
        status=201,
    )


@graph_call
async def get_channel(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    channel = emulator.live_channel(request.match_info["channel_id"], GraphApiError)
    return web.json_response(channel_json(emulator, channel))


@graph_call
async def patch_channel(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.update_channel(request.match_info["channel_id"], await _json_body(request))
    return web.Response(status=204)


@graph_call
async def delete_channel(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    emulator.delete_channel(request.match_info["channel_id"])
    return web.Response(status=204)


async def _archive(request: web.Request, archived: bool) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    if request.can_read_body:
        await request.read()  # optional {"shouldSetSpoSiteReadOnlyForMembers": true}
    op = emulator.archive(request.match_info["channel_id"], archived)
    location = f"/teams/{emulator.config.team_id}/operations/{op.id}"
    return web.Response(status=202, headers={"Location": location, "Content-Type": "text/plain"})


@graph_call
async def archive_channel(request: web.Request) -> web.StreamResponse:
    return await _archive(request, True)


@graph_call
async def unarchive_channel(request: web.Request) -> web.StreamResponse:
    return await _archive(request, False)


def chat_message_json(emulator: TeamsEmulator, post: Post) -> dict[str, Any]:
    """A post as Graph's chatMessage: cards' content is a JSON string, bots are applications."""
    if post.from_bot:
        sender: dict[str, Any] = {
            "application": {
                "@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                "id": emulator.config.bot_app_id or "00000000-0000-0000-0000-000000000000",
                "displayName": emulator.config.bot_name,
                "applicationIdentityType": "bot",
            }
        }
    else:
        sender = {
            "user": {
                "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                "id": post.sender.get("aadObjectId"),
                "displayName": post.sender.get("name"),
                "userIdentityType": "aadUser",
            }
        }
    return {
        "id": post.id,
        "replyToId": post.root_id,
        "etag": post.id,
        "messageType": "message",
        "createdDateTime": post.timestamp,
        "lastModifiedDateTime": post.edited or post.timestamp,
        "deletedDateTime": post.timestamp if post.deleted else None,
        "subject": None,
        "summary": None,
        "importance": "normal",
        "locale": "en-us",
        "from": sender,
        "body": {"contentType": "html", "content": "" if post.deleted else post.text},
        "attachments": [
            {
                "id": f"{post.id}-{index}",
                "contentType": attachment.get("contentType"),
                "contentUrl": None,
                "content": json.dumps(attachment.get("content"))
                if attachment.get("content") is not None
                else None,
                "name": None,
                "thumbnailUrl": None,
            }
            for index, attachment in enumerate([] if post.deleted else post.attachments)
        ],
        "mentions": [],
        "reactions": [],
    }


def _page(request: web.Request, posts: list[Post], emulator: TeamsEmulator) -> web.StreamResponse:
    """Graph's paging: ``$top`` (at most 50) and an ``@odata.nextLink`` carrying a ``$skiptoken``."""
    try:
        top = min(50, max(1, int(request.query.get("$top", "20"))))
        skip = int(request.query.get("$skiptoken", "0"))
    except ValueError:
        raise GraphApiError(400, "BadRequest", "Invalid $top or $skiptoken.") from None
    page = posts[skip : skip + top]
    body: dict[str, Any] = {
        "@odata.context": f"{GRAPH}/$metadata#chatMessages",
        "@odata.count": len(page),
        "value": [chat_message_json(emulator, post) for post in page],
    }
    if skip + top < len(posts):
        body["@odata.nextLink"] = str(
            request.url.update_query({"$top": str(top), "$skiptoken": str(skip + top)})
        )
    return web.json_response(body)


@graph_call
async def list_channel_messages(request: web.Request) -> web.StreamResponse:
    """The channel's root posts, newest first (replies are listed per message)."""
    emulator = request.app[EMULATOR]
    channel = emulator.live_channel(request.match_info["channel_id"], GraphApiError)
    roots = [p for p in emulator.state.posts.values() if p.conversation == channel.id and p.root_id is None]
    return _page(request, sorted(roots, key=lambda p: int(p.id), reverse=True), emulator)


@graph_call
async def list_message_replies(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    channel = emulator.live_channel(request.match_info["channel_id"], GraphApiError)
    root = request.match_info["message_id"]
    if root not in emulator.state.posts:
        raise GraphApiError(404, "NotFound", "Message not found.")
    replies = [p for p in emulator.state.posts.values() if p.conversation == channel.id and p.root_id == root]
    return _page(request, sorted(replies, key=lambda p: int(p.id), reverse=True), emulator)


@graph_call
async def get_operation(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR]
    return web.json_response(emulator.operation(request.match_info["operation_id"]))


def add_routes(app: web.Application) -> None:
    team = "/v1.0/teams/{team_id}"
    channel = team + "/channels/{channel_id}"
    app.router.add_get("/v1.0/teams", list_teams)
    app.router.add_get(team, get_team)
    app.router.add_get(team + "/channels", list_channels)
    app.router.add_post(team + "/channels", create_channel)
    app.router.add_get(channel, get_channel)
    app.router.add_patch(channel, patch_channel)
    app.router.add_delete(channel, delete_channel)
    app.router.add_post(channel + "/archive", archive_channel)
    app.router.add_get(channel + "/messages", list_channel_messages)
    app.router.add_get(channel + "/messages/{message_id}/replies", list_message_replies)
    app.router.add_post(channel + "/unarchive", unarchive_channel)
    app.router.add_get(team + "/operations/{operation_id}", get_operation)
