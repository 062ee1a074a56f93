"""``POST /api/messages``: the secure edge in front of botbuilder.

Malformed input gets a 4xx with a reason and never a 5xx (botbuilder 4.17.1 answers 500 for a
missing content type, junk JSON, and expired or wrongly signed tokens):

- 415 missing or non-JSON content type; 413 body over 1 MiB; 400 invalid JSON, a non-object, or an
  activity without ``type``;
- 401 for any authentication failure (missing, junk, expired or wrongly signed token);
- 403 when an authenticated activity names another channel, service URL or tenant than allowed.

An authenticated activity is stored (group-committed with others arriving at the same time) and
answered 201; the bot's turn runs afterwards, so the answer waits for one database commit and never
for ServiceNow or Teams. Invokes, whose answer is the result, run through the adapter at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import BotFrameworkAuthentication

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class EdgePolicy:
    development: bool
    allowed_service_url_prefixes: tuple[str, ...] = ()
    allowed_tenant_ids: frozenset[str] = frozenset()


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response(
        {"error": {"code": web.HTTPException.__name__, "message": reason}}, status=status
    )


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": reason}}, status=status)


async def _read_body(request: web.Request) -> bytes | web.Response:
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return _error(413, "PayloadTooLarge", "request body exceeds 1 MiB")
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "PayloadTooLarge", "request body exceeds 1 MiB")
    return body


def make_messages_handler(
    adapter: CloudAdapter,
    authentication: BotFrameworkAuthentication,
    bot: Bot,
    policy: EdgePolicy,
    store_activity: Callable[[dict], Awaitable[None]],
):
    async def messages(request: web.Request) -> web.StreamResponse:
        content_type = request.headers.get("Content-Type", "")
        if "json" not in content_type.lower():
            return _error(415, "UnsupportedMediaType", "Content-Type must be application/json")
        body = await _read_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "BadRequest", "body is not valid JSON")
        if not isinstance(payload, dict):
            return _error(400, "BadRequest", "body must be a JSON object (one activity)")
        kind = payload.get("type")
        if not kind or not isinstance(kind, str):
            return _error(400, "BadRequest", "activity has no type")
        if kind == "invoke":
            try:
                activity = Activity().deserialize(payload)
            except Exception:  # msrest raises several types for shapes it cannot read
                return _error(400, "BadRequest", "body is not a Bot Framework activity")
        else:
            # Authentication reads only these; the full (slow) msrest deserialisation happens when
            # the stored activity is processed.
            activity = Activity(
                type=kind,
                id=_text_or_none(payload.get("id")),
                channel_id=_text_or_none(payload.get("channelId")),
                service_url=_text_or_none(payload.get("serviceUrl")),
                channel_data=payload.get("channelData")
                if isinstance(payload.get("channelData"), dict)
                else None,
            )

        auth_header = request.headers.get("Authorization", "")
        try:
            auth_result = await authentication.authenticate_request(activity, auth_header)
        except Exception as error:  # every authentication failure is the caller's problem: 401
            log.info("rejected activity: authentication failed (%s)", type(error).__name__)
            return _error(401, "Unauthorized", "authentication failed")
        refusal = _policy_refusal(activity, policy, authenticated=bool(auth_header))
        if refusal:
            return _error(403, "Forbidden", refusal)

        if activity.type != "invoke":
            # Stored durably, then answered; the turn runs afterwards (ActivityProcessor).
            await store_activity(payload)
            return web.Response(status=201)
        # Invokes carry their answer in the HTTP response, so they run now (they only record a
        # decision and queue the slow work).
        invoke_response = await adapter.process_activity(auth_result, activity, bot.on_turn)
        if invoke_response is None:
            return web.Response(status=201)
        body_out = invoke_response.body
        if body_out is not None and hasattr(body_out, "serialize"):
            body_out = body_out.serialize()
        return web.json_response(body_out, status=invoke_response.status)

    return messages


def _text_or_none(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _policy_refusal(activity: Activity, policy: EdgePolicy, *, authenticated: bool) -> str | None:
    """Checks botbuilder skips when a field is missing (it then skips the matching claim check)."""
    if policy.development and not authenticated:
        return None
    if activity.channel_id != "msteams":
        return "only Microsoft Teams activities are accepted"
    if not activity.service_url:
        return "activity has no serviceUrl"
    if policy.allowed_service_url_prefixes and not activity.service_url.startswith(
        policy.allowed_service_url_prefixes
    ):
        return "serviceUrl is not allowed"
    if policy.allowed_tenant_ids:
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = (data.get("tenant") or {}).get("id")
        if tenant not in policy.allowed_tenant_ids:
            return "tenant is not allowed"
    return None
