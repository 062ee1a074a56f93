"""``POST /api/messages``: the secure edge in front of the bot.

Malformed input gets a 4xx with a reason and never a 5xx:

- 415 missing or non-JSON content type; 413 body over 1 MiB (read whole, however it arrives);
- 400 a body the product could not process later: not JSON, NaN, nesting deeper than 64, a lone
  surrogate or NUL, not one activity object, a field of the wrong type, an activity without a
  conversation (``bot.inbound``, ``bot.teams.activity``);
- 401 for any authentication failure (missing, junk, expired or wrongly signed token);
- 403 when an authenticated activity names another channel, service URL or tenant than allowed.

A valid, authenticated activity is stored (group-committed with others arriving at the same time)
and answered 201; the bot's turn runs afterwards, so the answer waits for one database commit and
never for ServiceNow or Teams. Only a storage failure answers 503, so Teams delivers it again.
Invokes, whose answer is the result, are routed at once (they only record a decision and queue the
slow work). Activity types the bot does not act on are answered 201 and not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity as BotActivity
from botframework.connector.auth import BotFrameworkAuthentication

from bot.inbound import BodyRejected, convert, decode_json, read_body
from bot.teams.activity import HANDLED_TYPES, Activity, problem_of
from bot.teams.handler import TeamsEvents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgePolicy:
    development: bool
    allowed_service_url_prefixes: tuple[str, ...] = ()
    allowed_tenant_ids: frozenset[str] = frozenset()


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": reason}}, status=status)


def make_messages_handler(
    authentication: BotFrameworkAuthentication,
    events: TeamsEvents,
    policy: EdgePolicy,
    store_activity: Callable[[dict[str, Any]], Awaitable[None]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def messages(request: web.Request) -> web.StreamResponse:
        content_type = request.headers.get("Content-Type", "")
        if "json" not in content_type.lower():
            return _error(415, "UnsupportedMediaType", "Content-Type must be application/json")
        try:
            payload = decode_json(await read_body(request))
            if not isinstance(payload, dict):
                raise BodyRejected("body must be a JSON object (one activity)")
            activity = convert(payload, Activity)
            problem = problem_of(activity)
            if problem is not None:
                raise BodyRejected(problem)
        except BodyRejected as rejected:
            code = "PayloadTooLarge" if rejected.status == 413 else "BadRequest"
            return _error(rejected.status, code, rejected.reason)

        auth_header = request.headers.get("Authorization", "")
        try:
            # Authentication reads only these fields of the activity.
            await authentication.authenticate_request(
                BotActivity(
                    type=activity.type,
                    id=activity.id,
                    channel_id=activity.channel_id,
                    service_url=activity.service_url,
                    channel_data=payload.get("channelData")
                    if isinstance(payload.get("channelData"), dict)
                    else None,
                ),
                auth_header,
            )
        except Exception as error:  # every authentication failure is the caller's problem: 401
            log.info("rejected activity: authentication failed (%s)", type(error).__name__)
            return _error(401, "Unauthorized", "authentication failed")
        refusal = _policy_refusal(activity, policy, authenticated=bool(auth_header))
        if refusal:
            return _error(403, "Forbidden", refusal)

        if activity.type == "invoke":
            return web.json_response(await events.invoke(activity), status=200)
        if activity.type not in HANDLED_TYPES:
            return web.Response(status=201)  # acknowledged; nothing to do (reactions, typing...)
        try:
            await store_activity(payload)
        except Exception as error:  # only storage can fail here: Teams delivers again
            log.warning("activity could not be stored (%s)", type(error).__name__)
            return _error(503, "ServiceUnavailable", "the activity could not be stored; try again")
        return web.Response(status=201)

    return messages


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
        data = activity.channel_data
        tenant = data.tenant.id if data and data.tenant else None
        if tenant not in policy.allowed_tenant_ids:
            return "tenant is not allowed"
    return None
