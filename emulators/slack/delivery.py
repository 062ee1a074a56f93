"""The wire from Slack to the app: signed POSTs to the bot URL, Slack's ack window and retries.

Every delivery is signed (v0, wall clock) on the exact bytes sent. A delivery's status is the
bot's HTTP status, or `BOT_UNREACHABLE` (502) when the connection failed, or `BOT_TIMEOUT` (504)
when the bot did not answer within `ack_timeout_s` (Slack's 3 s). Events are kept by `event_id`
so they can be sent again byte for byte with `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`, by hand
or automatically after `retry_delays_s`. Log lines name kinds and statuses, never message text.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from emulators.slack import payloads as wire
from emulators.slack.config import SlackEmulatorConfig
from emulators.slack.errors import DriverError
from emulators.slack.signing import signed_headers

log = logging.getLogger(__name__)

BOT_UNREACHABLE = 502
BOT_TIMEOUT = 504
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
Spawner = Callable[[Coroutine[Any, Any, Any]], None]


@dataclass(frozen=True)
class Signing:
    """How to sign one delivery: `mode` "valid" | "invalid" | "missing", timestamp shifted by `skew_s`."""

    mode: str = "valid"
    skew_s: int = 0


@dataclass(frozen=True)
class Delivery:
    status: int
    body: Any
    retry_reason: str | None  # what Slack would put in X-Slack-Retry-Reason; None on 2xx
    no_retry: bool = False  # the bot answered X-Slack-No-Retry: 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class BotLink:
    """POSTs to the bot and remembers what was sent, for redelivery and for `/_emulator/deliveries`."""

    def __init__(self, config: SlackEmulatorConfig, spawn: Spawner) -> None:
        self.config = config
        self._spawn = spawn
        self.deliveries: collections.deque[dict[str, Any]] = collections.deque(maxlen=500)
        self.sent_events: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    def clear(self) -> None:
        self.deliveries.clear()
        self.sent_events.clear()

    async def post(
        self, body: bytes, content_type: str, signing: Signing, extra: dict[str, str] | None = None
    ) -> Delivery:
        assert self._session is not None, "emulator not started"
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if signing.mode != "missing":
            headers |= signed_headers(
                self.config.signing_secret, body, skew_s=signing.skew_s, valid=signing.mode == "valid"
            )
        headers |= extra or {}
        timeout = aiohttp.ClientTimeout(total=self.config.ack_timeout_s)
        try:
            async with self._session.post(
                self.config.bot_url, data=body, headers=headers, timeout=timeout
            ) as resp:
                raw = await resp.text()
                no_retry = resp.headers.get("X-Slack-No-Retry") == "1"
                status = resp.status
        except TimeoutError:
            return Delivery(BOT_TIMEOUT, {"error": "bot did not answer in time"}, "http_timeout")
        except aiohttp.ClientError as exc:
            error = {"error": f"bot unreachable: {type(exc).__name__}"}
            return Delivery(BOT_UNREACHABLE, error, "connection_failed")
        reason = None if 200 <= status < 300 else "http_error"
        return Delivery(status, _parse(raw), reason, no_retry)

    def record(self, kind: str, detail: str, result: Delivery, **extra: Any) -> None:
        self.deliveries.append({"kind": kind, "type": detail, "status": result.status, **extra})
        log.info("slack delivery %s %s -> %s", kind, detail, result.status)

    async def send_event(self, body: dict[str, Any], signing: Signing) -> tuple[str, Delivery]:
        """POST one event_callback; a failed one is retried when `retry_delays_s` says so."""
        event_id = str(body["event_id"])
        raw = json.dumps(body, separators=(",", ":")).encode()
        self._remember(event_id, raw)
        result = await self.post(raw, JSON, signing)
        self.record("event", _event_type(body.get("event") or {}), result, event_id=event_id)
        if not result.ok and not result.no_retry and self.config.retry_delays_s:
            self._spawn(self._auto_retry(event_id, result.retry_reason or "unknown_error"))
        return event_id, result

    def _remember(self, event_id: str, raw: bytes) -> None:
        self.sent_events[event_id] = raw
        while len(self.sent_events) > 1000:
            self.sent_events.popitem(last=False)

    async def _auto_retry(self, event_id: str, reason: str) -> None:
        for number, delay in enumerate(self.config.retry_delays_s[:3], start=1):
            await asyncio.sleep(delay)
            result = await self.redeliver(event_id, number, reason)
            if result.ok or result.no_retry:
                return
            reason = result.retry_reason or "unknown_error"

    def last_event_id(self) -> str | None:
        return next(reversed(self.sent_events), None)

    async def redeliver(
        self, event_id: str, retry_num: int, reason: str, signing: Signing = Signing()
    ) -> Delivery:
        """Send an earlier event again, byte for byte, with Slack's retry headers (freshly signed)."""
        raw = self.sent_events.get(event_id)
        if raw is None:
            raise DriverError(404, f"no event {event_id} was sent (or it is too old)")
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}
        result = await self.post(raw, JSON, signing, headers)
        self.record("event", "redelivery", result, event_id=event_id, retry_num=retry_num)
        return result

    async def resend_as_new(self, event_id: str, signing: Signing = Signing()) -> tuple[str, Delivery]:
        """The rare duplicate: the same event under a new event_id and without retry headers."""
        raw = self.sent_events.get(event_id)
        if raw is None:
            raise DriverError(404, f"no event {event_id} was sent (or it is too old)")
        body = json.loads(raw)
        body["event_id"] = wire.new_event_id()
        new_raw = json.dumps(body, separators=(",", ":")).encode()
        self._remember(body["event_id"], new_raw)
        result = await self.post(new_raw, JSON, signing)
        self.record("event", "duplicate", result, event_id=body["event_id"], duplicate_of=event_id)
        return str(body["event_id"]), result


def _event_type(event: dict[str, Any]) -> str:
    subtype = event.get("subtype")
    return f"{event.get('type')}/{subtype}" if subtype else str(event.get("type"))


def _parse(raw: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
