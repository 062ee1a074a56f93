"""What every GitHub API call goes through: credentials, rate limits, faults and common headers.

- ``Authorization: Bearer <token>`` or ``token <token>``; an unknown, revoked or expired token is
  ``401 {"message": "Bad credentials", ...}`` everywhere; no credentials at all is anonymous
  (private repositories then answer 404, writes and ``/user`` answer 401 "Requires authentication").
- Every answer carries ``x-ratelimit-limit|remaining|reset|used|resource`` (reset in UTC epoch
  seconds). ``core`` allows ``core_limit`` calls an hour per user (60 anonymous), ``search``
  ``search_limit`` a minute (10 anonymous). An exhausted limit answers 403 with
  ``x-ratelimit-remaining: 0`` (GitHub's primary rate limit).
- The ``rate_limit`` fault takes ``kind`` (``primary``: remaining 0 and the reset; ``secondary``:
  ``retry-after`` and the "secondary rate limit" message) and ``status`` (403 default, or 429).
- ``X-GitHub-Api-Version`` other than a known version answers 400.

Errors: handlers raise :class:`GitHubError`; the middleware renders ``{"message",
"documentation_url", "status"}`` (plus ``errors`` for 422). A caller's input never yields a 5xx
unless a ``status`` fault asks for one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulators.github.render import user_number
from emulators.github.store import IssueStore
from emulators.injected_faults import CallLog, InjectedFaults, RateLimitRefusal

__all__ = [
    "CALLS_KEY",
    "FAULTS_KEY",
    "LOGIN_KEY",
    "STORE_KEY",
    "GitHubError",
    "RateWindows",
    "api_middleware",
    "new_faults",
]

log = logging.getLogger("emulators.github")

STORE_KEY = web.AppKey("github_store", IssueStore)
FAULTS_KEY = web.AppKey("github_faults", InjectedFaults)
CALLS_KEY = web.AppKey("github_calls", CallLog)
LOGIN_KEY = web.RequestKey("github_login", str)

DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
_REASONS = {
    400: "Bad Request",
    401: "Requires authentication",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class GitHubError(Exception):
    def __init__(
        self,
        status: int,
        message: str | None = None,
        documentation_url: str = DOCS,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status)
        self.status = status
        self.message = message or _REASONS.get(status, "Error")
        self.documentation_url = documentation_url
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return web.json_response(body, status=self.status, headers=self.headers)


def new_faults() -> InjectedFaults:
    return InjectedFaults(rate_limit_keys={"kind": ("primary", "secondary"), "status": (403, 429)})


class RateWindows:
    """Fixed windows per (user, resource): ``core`` an hour, ``search`` a minute."""

    WINDOW = {"core": 3600, "search": 60}

    def __init__(self, core_limit: int, search_limit: int, wall: Callable[[], float] = time.time):
        self.limits = {
            ("core", True): core_limit,
            ("core", False): 60,
            ("search", True): search_limit,
            ("search", False): 10,
        }
        self._wall = wall
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def clear(self) -> None:
        self._windows.clear()

    def _window(self, who: str, resource: str) -> tuple[int, int]:
        now = self._wall()
        reset, used = self._windows.get((who, resource), (0, 0))
        if now >= reset:
            reset, used = math.ceil(now) + self.WINDOW[resource], 0
        return reset, used

    def take(self, who: str | None, resource: str) -> tuple[bool, dict[str, str]]:
        key = who or "anonymous"
        limit = self.limits[(resource, who is not None)]
        reset, used = self._window(key, resource)
        allowed = used < limit
        if allowed:
            used += 1
        self._windows[(key, resource)] = (reset, used)
        return allowed, self.headers(limit, limit - used, reset, used, resource)

    def peek(self, who: str | None, resource: str) -> dict[str, str]:
        limit = self.limits[(resource, who is not None)]
        reset, used = self._window(who or "anonymous", resource)
        return self.headers(limit, limit - used, reset, used, resource)

    @staticmethod
    def headers(limit: int, remaining: int, reset: int, used: int, resource: str) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": resource,
        }


RATES_KEY = web.AppKey("github_rates", RateWindows)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _token(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


def _login(request: web.Request, token: str) -> str | None:
    store = request.app[STORE_KEY]
    login = next(
        (
            who
            for known, who in store.config.tokens.items()
            if hmac.compare_digest(known.encode(), token.encode())
        ),
        None,
    )
    if login is None or request.app[FAULTS_KEY].refuses_token(token):
        return None
    return login


def _primary_refusal(status: int, who: str | None, headers: dict[str, str]) -> GitHubError:
    subject = f"user ID {user_number(who)}" if who else "127.0.0.1"
    message = (
        f"API rate limit exceeded for {subject}. If you reach out to GitHub Support for help, "
        f"please include the request ID {headers['x-github-request-id']}."
    )
    return GitHubError(status, message, RATE_DOCS, headers=headers)


def _fault_refusal(
    refusal: RateLimitRefusal, who: str | None, resource: str, rates: RateWindows, base: dict[str, str]
) -> GitHubError:
    status = int(refusal.options.get("status", 403))
    if refusal.options.get("kind", "primary") == "secondary":
        headers = {**base, **rates.peek(who, resource), "retry-after": str(refusal.retry_after)}
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {base['x-github-request-id']}."
        )
        return GitHubError(status, message, f"{RATE_DOCS}#about-secondary-rate-limits", headers=headers)
    limit = rates.limits[(resource, who is not None)]
    reset = math.ceil(time.time()) + refusal.retry_after
    headers = {**base, **RateWindows.headers(limit, 0, reset, limit, resource)}
    return _primary_refusal(status, who, headers)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_emulator") or request.match_info.route.name == "issue_page":
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
    rates = request.app[RATES_KEY]
    base = {
        "x-github-api-version-selected": "2022-11-28",
        "x-github-media-type": "github.v3; format=json",
        "x-github-request-id": uuid.uuid4().hex[:20].upper(),
    }
    resource = "search" if request.path.startswith("/search/") else "core"
    if faults.latency_s > 0:
        await asyncio.sleep(faults.latency_s)
    forced = faults.take_status()
    if forced is not None:
        return GitHubError(forced, headers={**base, **rates.peek(None, resource)}).response()
    version = request.headers.get("X-GitHub-Api-Version")
    if version is not None and version.strip() not in API_VERSIONS:
        message = f"Unsupported 'X-GitHub-Api-Version' header: {version[:40]}"
        return GitHubError(400, message, headers=base).response()
    token = _token(request)
    who = None if token is None else _login(request, token)
    if token is not None and who is None:
        return GitHubError(401, "Bad credentials", headers={**base, **rates.peek(None, resource)}).response()
    if who is not None:
        request[LOGIN_KEY] = who
    refusal = faults.take_rate_limit()
    if refusal is not None:
        return _fault_refusal(refusal, who, resource, rates, base).response()
    allowed, rate_headers = rates.take(who, resource)
    headers = {**base, **rate_headers}
    if not allowed:
        return _primary_refusal(403, who, headers).response()
    try:
        response = await handler(request)
    except GitHubError as exc:
        response = exc.response()
    except web.HTTPNotFound:
        response = GitHubError(404).response()
    except web.HTTPMethodNotAllowed:
        response = GitHubError(404).response()
    response.headers.update(headers)
    if response.status < 400:
        delay = faults.take_drop(request.method)
        if delay is not None:
            # The write is committed; now lose the reply, as a proxy timeout or a reset would.
            if delay > 0:
                await asyncio.sleep(delay)
            log.info("emulator: dropping the reply of a committed %s (fault)", request.method)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
    return response
