"""The Slack Web API as the product uses it: slack_sdk's async client, paced, with errors classified.

One :class:`SlackApi` per app holds one aiohttp session (opened on first use inside the event loop)
and an ``AsyncWebClient`` on it, pointed at ``GOLIVE_SLACK_API_URL``. The SDK's own retries are off:
the outbox retries, and it looks for an earlier post before posting again, which an SDK retry of a
post whose answer was lost would not do.

Pacing: Slack allows ``chat.postMessage`` about one message a second per channel (short bursts
aside), so posts to one channel are spaced :data:`POST_INTERVAL_S` apart. A 429 answer holds that
channel (or, for other methods, the method) until its ``Retry-After`` has passed: calls meanwhile
fail at once with the time left, rather than hammering Slack.

Error tree (the ports' own, ``bot.ports``)::

    Transient   429 (``retry_after`` from Retry-After), HTTP 5xx, timeouts, connection failures,
                and ``ok: false`` codes that mean "try later" (:data:`TRANSIENT_ERRORS`)
    Permanent   every other ``ok: false`` code (``channel_not_found``, ``not_in_channel``,
                ``invalid_blocks``, ``invalid_auth``...), a response URL the bot may not call

Reasons carry Slack's error code and the method, never message text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import Permanent, Transient

#: Seconds between two posts into one channel (Slack: about 1 message a second per channel).
POST_INTERVAL_S = 1.0
TIMEOUT_S = 10
#: ``ok: false`` codes worth retrying; every other code is permanent.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "timeout",
        "team_added_to_org",
        "accesslimited",
    }
)
#: Where a response URL may point: Slack's own hooks, or the configured API's host (an emulator).
SLACK_HOOKS = "https://hooks.slack.com/"

Observe = Callable[[str, str, float], None]


def _no_observer(op: str, status: str, seconds: float) -> None:
    return None


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float((headers or {}).get("Retry-After", "1")))
    except (TypeError, ValueError):
        return 1.0


class Pacer:
    """Spacing of posts per channel, and holds after a 429 (per channel or per method)."""

    def __init__(
        self,
        interval_s: float = POST_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = interval_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._held: dict[str, float] = {}

    def check_hold(self, what: str) -> None:
        """Raise ``Transient`` with the time left while ``what`` is held after a 429."""
        until = self._held.get(what)
        if until is None:
            return
        left = until - self._monotonic()
        if left > 0:
            raise Transient(f"Slack rate limit on {what} (held)", left)
        del self._held[what]

    def hold(self, what: str, seconds: float) -> None:
        self._held[what] = max(self._held.get(what, 0.0), self._monotonic() + seconds)

    async def turn(self, channel: str) -> None:
        """Wait for this channel's next posting slot (reserved before waiting, so concurrent posts
        line up one interval apart)."""
        now = self._monotonic()
        slot = max(now, self._next.get(channel, now))
        self._next[channel] = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


class SlackApi:
    """The Web API client of one app (bot token), plus response-URL posts."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://slack.com/api/",
        *,
        pacer: Pacer | None = None,
        observe: Observe = _no_observer,
        timeout_s: int = TIMEOUT_S,
    ) -> None:
        self._token = token
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.pacer = pacer or Pacer()
        self._observe = observe
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    @property
    def base_url(self) -> str:
        return self._base_url

    def _web(self) -> AsyncWebClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                session=self._session,
                timeout=self._timeout_s,
                retry_handlers=[],
            )
        assert self._client is not None
        return self._client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self, method: str, *, read: bool = False, pace: str | None = None, **args: Any
    ) -> dict[str, Any]:
        """Call ``method``: a write with a JSON body, or (``read``) a GET with query parameters, as
        Slack takes reads. ``pace`` names the channel of a post to space out. Returns Slack's
        answer; raises ``Transient`` / ``Permanent``."""
        values = {k: v for k, v in args.items() if v is not None}
        hold_key = f"channel {pace}" if pace else method
        self.pacer.check_hold(hold_key)
        if pace:
            await self.pacer.turn(pace)
            self.pacer.check_hold(hold_key)  # a 429 may have come while this post waited its turn
        started = time.perf_counter()
        try:
            if read:
                params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in values.items()}
                response = await self._web().api_call(method, http_verb="GET", params=params)
            else:
                response = await self._web().api_call(method, json=values)
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or "")
            self._observe(
                method, str(status if status != 200 else code or "error"), time.perf_counter() - started
            )
            if status == 429:
                wait = _retry_after(error.response.headers)
                self.pacer.hold(hold_key, wait)
                raise Transient(f"Slack {method}: rate limited (429)", wait) from None
            if status >= 500 or code in TRANSIENT_ERRORS:
                raise Transient(f"Slack {method}: {code or status}") from None
            raise Permanent(f"Slack {method}: {code or f'HTTP {status}'}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            self._observe(method, "unreachable", time.perf_counter() - started)
            raise Transient(f"Slack {method}: unreachable ({type(error).__name__})") from None
        except SlackClientError as error:  # the SDK refused our own arguments: a bug, not Slack
            self._observe(method, "client_error", time.perf_counter() - started)
            raise Permanent(f"Slack {method}: {type(error).__name__}") from None
        self._observe(method, "ok", time.perf_counter() - started)
        return dict(response.data) if isinstance(response.data, dict) else {}

    def response_url_allowed(self, url: str) -> bool:
        """A response URL comes from Slack's hooks, or from the configured API's own host."""
        api = urlsplit(self._base_url)
        target = urlsplit(url)
        if url.startswith(SLACK_HOOKS):
            return True
        return bool(
            target.scheme in ("http", "https") and (target.scheme, target.netloc) == (api.scheme, api.netloc)
        )

    async def respond(self, url: str, body: dict[str, Any]) -> None:
        """POST an answer to an interaction's or a command's ``response_url``."""
        if not self.response_url_allowed(url):
            raise Permanent("response URL is neither Slack's nor the configured API's host")
        self._web()
        assert self._session is not None
        started = time.perf_counter()
        try:
            async with self._session.post(url, json=body) as response:
                await response.read()
                status = response.status
                retry_after = _retry_after(response.headers)
        except (aiohttp.ClientError, TimeoutError) as error:
            self._observe("response_url", "unreachable", time.perf_counter() - started)
            raise Transient(f"Slack response URL unreachable ({type(error).__name__})") from None
        self._observe("response_url", str(status), time.perf_counter() - started)
        if status == 429:
            raise Transient("Slack response URL: rate limited (429)", retry_after)
        if status >= 500:
            raise Transient(f"Slack response URL: HTTP {status}")
        if status >= 400:
            raise Permanent(f"Slack response URL: HTTP {status}")


__all__ = ["POST_INTERVAL_S", "TRANSIENT_ERRORS", "Pacer", "SlackApi"]
