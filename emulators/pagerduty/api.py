"""The emulated REST API v2: ``/oncalls``, ``/schedules[/{id}]``, ``/users[/{id}]``.

Follows what PagerDuty documents (https://developer.pagerduty.com/api-reference/): ``Authorization:
Token token=<key>``, the ``{"error": {"message", "code", "errors"}}`` envelope, classic pagination
(``limit`` at most 100, ``offset`` echoed, ``more``, ``total`` null unless ``total=true``, offset +
limit at most 10 000), ``ratelimit-limit|remaining|reset`` headers and a 429 without
``Retry-After`` when the limit is exhausted. Array parameters use the bracket form
(``schedule_ids[]=A&schedule_ids[]=B``).

Errors: every refusal is an :class:`ApiError` turned into PagerDuty's envelope by the middleware;
nothing a caller sends produces a 5xx unless a ``status`` fault asks for one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from emulators.injected_faults import CallLog, InjectedFaults
from emulators.pagerduty.account import PagerDutyAccount
from emulators.pagerduty.resources import Renderer

__all__ = [
    "ACCOUNT_KEY",
    "CALLS_KEY",
    "FAULTS_KEY",
    "ApiError",
    "add_api_routes",
    "api_middleware",
    "error_body",
]

log = logging.getLogger("emulators.pagerduty")

ACCOUNT_KEY = web.AppKey("pagerduty_account", PagerDutyAccount)
FAULTS_KEY = web.AppKey("pagerduty_faults", InjectedFaults)
CALLS_KEY = web.AppKey("pagerduty_calls", CallLog)

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_RECORDS = 10_000
MAX_ONCALL_RANGE = timedelta(days=93)  # "the search range cannot exceed 3 months"
MAX_SCHEDULE_RANGE = timedelta(days=366)
INCLUDES = frozenset({"users", "schedules", "escalation_policies"})

# PagerDuty's error codes (developer-docs REST-API/14-Errors.md).
_ERRORS: dict[int, tuple[str, int]] = {
    400: ("Invalid Input Provided", 2001),
    401: ("Authentication failed", 2006),
    402: ("Missing Account Ability", 2014),
    403: ("Access Denied", 2010),
    404: ("Not Found", 2100),
    408: ("The request took too long to process", 2016),
    429: ("Rate Limit Exceeded", 2020),
}


class ApiError(Exception):
    def __init__(self, status: int, errors: list[str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def error_body(status: int, errors: list[str] | None = None) -> dict[str, Any]:
    message, code = _ERRORS.get(
        status, ("An internal error has occurred. PagerDuty team has been notified.", 2000)
    )
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return {"error": body}


def _error_response(exc: ApiError) -> web.Response:
    return web.json_response(error_body(exc.status, exc.errors), status=exc.status, headers=exc.headers)


class MinuteWindow:
    """PagerDuty's per-key limit (960 a minute): counts calls in fixed one-minute windows."""

    def __init__(self, limit: int, monotonic: Callable[[], float] = time.monotonic):
        self.limit = limit
        self._monotonic = monotonic
        self._started = monotonic()
        self._used = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self._monotonic()
        if now - self._started >= 60:
            self._started, self._used = now, 0
        reset = max(1, math.ceil(60 - (now - self._started)))
        allowed = self._used < self.limit
        if allowed:
            self._used += 1
        headers = {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(max(0, self.limit - self._used)),
            "ratelimit-reset": str(reset),
        }
        return allowed, headers


LIMITER_KEY = web.AppKey("pagerduty_limiter", MinuteWindow)


# ---- authentication and faults ---------------------------------------------------------------


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "token":
        name, sep, value = rest.strip().partition("=")
        if name.strip() == "token" and sep:
            return value.strip().strip('"') or None
        return None
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return None


def _authenticated(request: web.Request) -> bool:
    token = _token(request)
    if token is None:
        return False
    known = any(
        hmac.compare_digest(token.encode(), t.encode()) for t in request.app[ACCOUNT_KEY].config.tokens
    )
    return known and not request.app[FAULTS_KEY].refuses_token(token)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_emulator"):
        return await handler(request)
    status = 0
    try:
        response = await _guarded(request, handler)
        status = response.status
        return response
    finally:
        request.app[CALLS_KEY].record(request.method, request.path, status)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[FAULTS_KEY]
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
    forced = faults.take_status()
    if forced is not None:
        return _error_response(ApiError(forced))
    if not _authenticated(request):
        return _error_response(ApiError(401))
    refusal = faults.take_rate_limit()
    limiter: MinuteWindow = request.app[LIMITER_KEY]
    if refusal is not None:
        headers = {
            "ratelimit-limit": str(limiter.limit),
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(refusal.retry_after),
        }
        return _error_response(ApiError(429, headers=headers))
    allowed, rate_headers = limiter.take()
    if not allowed:
        return _error_response(ApiError(429, headers=rate_headers))
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _error_response(exc)
    except web.HTTPNotFound:
        response = _error_response(ApiError(404))
    except web.HTTPMethodNotAllowed:
        response = web.json_response({"error": {"message": "Method Not Allowed", "code": 2100}}, status=405)
    response.headers.update(rate_headers)
    return response


# ---- query parameters ------------------------------------------------------------------------


def _zone(request: web.Request) -> ZoneInfo:
    name = request.query.get("time_zone") or request.app[ACCOUNT_KEY].config.time_zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApiError(400, ["Time zone is not a valid time zone"]) from exc


def _instant(request: web.Request, name: str, zone: ZoneInfo) -> datetime | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ApiError(400, [f"{name.capitalize()} is not a valid date-time"]) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _integer(request: web.Request, name: str, default: int, low: int) -> int:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ApiError(400, [f"{name.capitalize()} must be an integer"]) from exc
    if number < low:
        raise ApiError(400, [f"{name.capitalize()} must be at least {low}"])
    return number


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").strip().lower() == "true"


def _page(request: web.Request, key: str, items: list[Any]) -> web.Response:
    """Classic pagination: the slice plus ``limit``, ``offset`` (echoed), ``more`` and ``total``."""
    limit = min(_integer(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _integer(request, "offset", 0, 0)
    if offset + limit > MAX_RECORDS:
        raise ApiError(400, [f"Offset plus limit cannot exceed {MAX_RECORDS}"])
    page = items[offset : offset + limit]
    return web.json_response(
        {
            key: page,
            "limit": limit,
            "offset": offset,
            "more": offset + len(page) < len(items),
            "total": len(items) if _flag(request, "total") else None,
        }
    )


def _renderer(request: web.Request, zone: ZoneInfo) -> Renderer:
    account = request.app[ACCOUNT_KEY]
    base = account.config.public_base_url or f"{request.scheme}://{request.host}"
    return Renderer(account, base, zone)


# ---- handlers ---------------------------------------------------------------------------------


async def list_oncalls(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    zone = _zone(request)
    now = account.config.now()
    since = _instant(request, "since", zone) or now
    until = _instant(request, "until", zone) or now
    if until < since:
        raise ApiError(400, ["Until must be after since"])
    if until - since > MAX_ONCALL_RANGE:
        raise ApiError(400, ["The search range cannot exceed 3 months"])
    include = set(request.query.getall("include[]", []))
    if include - INCLUDES:
        raise ApiError(400, ["Include must be one of users, schedules, escalation_policies"])
    schedule_ids = set(request.query.getall("schedule_ids[]", []))
    user_ids = set(request.query.getall("user_ids[]", []))
    policy_ids = set(request.query.getall("escalation_policy_ids[]", []))
    entries = account.oncalls(since, until)
    if schedule_ids:
        # "null" in schedule_ids[] keeps the permanent on-calls of users targeted directly.
        entries = [e for e in entries if (e.schedule_id or "null") in schedule_ids]
    if user_ids:
        entries = [e for e in entries if e.user_id in user_ids]
    if policy_ids:
        entries = [e for e in entries if e.escalation_policy_id in policy_ids]
    entries.sort(
        key=lambda e: (
            e.escalation_policy_id,
            e.escalation_level,
            e.start.timestamp() if e.start is not None else -math.inf,
            e.schedule_id or "",
            e.user_id,
        )
    )
    if _flag(request, "earliest"):
        seen: set[tuple[str, int, str]] = set()
        earliest = []
        for entry in entries:
            group = (entry.escalation_policy_id, entry.escalation_level, entry.user_id)
            if group not in seen:
                seen.add(group)
                earliest.append(entry)
        entries = earliest
    renderer = _renderer(request, zone)
    return _page(request, "oncalls", [renderer.oncall(e, include) for e in entries])


async def list_schedules(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    renderer = _renderer(request, _zone(request))
    query = request.query.get("query", "").strip().lower()
    chosen = [s for s in account.schedules.values() if query in s.name.lower()]
    return _page(request, "schedules", [renderer.schedule(s) for s in chosen])


async def get_schedule(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    schedule = account.schedules.get(request.match_info["id"])
    if schedule is None:
        raise ApiError(404)
    zone = _zone(request)
    since = _instant(request, "since", zone)
    until = _instant(request, "until", zone)
    # Each bound defaults to two weeks from the other (from now when neither is given).
    if since is None and until is None:
        since = account.config.now()
    if since is None:
        assert until is not None
        since = until - timedelta(weeks=2)
    if until is None:
        until = since + timedelta(weeks=2)
    if until < since:
        raise ApiError(400, ["Until must be after since"])
    if until - since > MAX_SCHEDULE_RANGE:
        raise ApiError(400, ["The date range is too long"])
    renderer = _renderer(request, zone)
    return web.json_response(
        {"schedule": renderer.schedule(schedule, (since, until), overflow=_flag(request, "overflow"))}
    )


async def list_users(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    renderer = _renderer(request, _zone(request))
    query = request.query.get("query", "").strip().lower()
    chosen = [u for u in account.users.values() if query in u.name.lower() or query in u.email.lower()]
    return _page(request, "users", [renderer.user(u.id) for u in chosen])


async def get_user(request: web.Request) -> web.Response:
    account = request.app[ACCOUNT_KEY]
    user_id = request.match_info["id"]
    if user_id not in account.users:
        raise ApiError(404)
    return web.json_response({"user": _renderer(request, _zone(request)).user(user_id)})


def add_api_routes(app: web.Application) -> None:
    app[LIMITER_KEY] = MinuteWindow(app[ACCOUNT_KEY].config.rate_limit_per_minute)
    app.router.add_get("/oncalls", list_oncalls)
    app.router.add_get("/schedules", list_schedules)
    app.router.add_get("/schedules/{id}", get_schedule)
    app.router.add_get("/users", list_users)
    app.router.add_get("/users/{id}", get_user)
