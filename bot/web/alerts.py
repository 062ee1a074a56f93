"""``POST /alerts/{sentry,datadog,pagerduty,bugsnag}``: monitoring-alert webhooks in.

One handler per source, the same steps for each: read the whole body (``bot.inbound``: size limit,
any transfer encoding), authenticate it as the source's contract says (``bot.alerts.<source>
.authenticate`` on the exact raw bytes, the wall clock for Sentry's timestamp window), parse it into
one ``Alert`` (the parsers' own JSON safety), and store it in the inbox (group commit) before the
answer, keyed ``{source}:{delivery_id}`` so a redelivery is stored once. Processing happens after the
answer (``bot.bridge.alerts``), so the answer never waits for ServiceNow or Teams.

Answers (the senders retry 5xx and drop 4xx, so only a storage failure is a 5xx)::

    202 {"status": "accepted"}            stored (or already stored: a redelivery)
    200 {"status": "ignored", "reason"}   well-formed, nothing to track (a Sentry installation...)
    400 / 413 {"error": reason}           the body cannot be read (reason names a field, never a value)
    401 {"error": reason}                 bad, stale or missing signature or token
    503 {"error": ...}                    the alert could not be stored; the sender delivers it again
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from bot.alerts import RECEIVERS, AlertRejected, AlertUnauthorized, Ignored, Source
from bot.bridge.alerts import stored_payload
from bot.clock import Clock
from bot.inbound import BodyRejected, read_body

log = logging.getLogger(__name__)


class StoreEvent(Protocol):
    def __call__(
        self, activity: dict[str, Any], *, source: str = ..., key: str | None = ...
    ) -> Awaitable[None]: ...


Handler = Callable[[web.Request], Awaitable[web.Response]]


def make_alert_handler(
    source: Source,
    secret: str,
    store: StoreEvent,
    clock: Clock,
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Handler:
    """The handler of ``POST /alerts/{source}``; ``secret`` is the source's secret or token."""
    receiver = RECEIVERS[source]

    async def receive(request: web.Request) -> web.Response:
        try:
            raw = await read_body(request)
        except BodyRejected as error:
            return _refuse(source, error.status, error.reason)
        try:
            # Signatures cover the exact bytes; timestamps are checked on the wall clock, whatever
            # the simulated clock says.
            receiver.authenticate(request.headers, raw, request.query, secret, wall_clock())
        except AlertUnauthorized as error:
            return _refuse(source, 401, error.reason)
        try:
            parsed = receiver.parse(request.headers, raw)
        except AlertRejected as error:
            return _refuse(source, 400, error.reason)
        if isinstance(parsed, Ignored):
            return web.json_response({"status": "ignored", "reason": parsed.reason}, status=200)
        try:
            await store(
                stored_payload(parsed, clock.now()),
                source=source,
                key=f"{source}:{parsed.delivery_id}",
            )
        except Exception as error:  # the sender retries a 5xx; nothing was acknowledged
            log.warning("a %s alert could not be stored (%s)", source, type(error).__name__)
            return web.json_response({"error": "the alert could not be stored; deliver it again"}, status=503)
        return web.json_response({"status": "accepted"}, status=202)

    return receive


def _refuse(source: str, status: int, reason: str) -> web.Response:
    # Reasons name headers, fields and limits, never payload text (bot.alerts.errors).
    log.info("%s alert refused with %d: %s", source, status, reason)
    return web.json_response({"error": reason}, status=status)


def install(
    app: web.Application,
    secrets: Mapping[Source, str],
    store: StoreEvent,
    clock: Clock,
) -> None:
    """Add the four alert routes to ``app``."""
    for source, secret in secrets.items():
        app.router.add_post(f"/alerts/{source}", make_alert_handler(source, secret, store, clock))


__all__ = ["install", "make_alert_handler"]
