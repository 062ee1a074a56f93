"""The inbound half of monitoring alerts: authenticate, validate and normalise webhook deliveries.

Pure functions, no I/O: each source module (``sentry``, ``datadog``, ``pagerduty``, ``bugsnag``) has

- ``authenticate(headers, raw_body, query, secret, now) -> None``, raising ``AlertUnauthorized``;
- ``parse(headers, raw_body) -> Alert | Ignored``, raising ``AlertRejected``.

An endpoint calls ``authenticate`` (401 on failure), then ``parse`` (400 on failure), then stores the
``Alert`` (or answers 200 for ``Ignored``). ``RECEIVERS`` maps a source name to its module for a
table-driven endpoint. This package imports nothing else of ``bot``, and no web or database library.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final, Protocol

from bot.alerts import bugsnag, datadog, pagerduty, sentry
from bot.alerts.errors import AlertError, AlertRejected, AlertUnauthorized
from bot.alerts.model import LEVELS, SOURCES, STATES, Alert, Ignored, Level, Source, State


class AlertReceiver(Protocol):
    """What each source module provides (the modules themselves satisfy it)."""

    def authenticate(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        query: Mapping[str, str],
        secret: str,
        now: datetime,
    ) -> None: ...

    def parse(self, headers: Mapping[str, str], raw_body: bytes) -> Alert | Ignored: ...


RECEIVERS: Final[Mapping[Source, AlertReceiver]] = {
    "sentry": sentry,
    "datadog": datadog,
    "pagerduty": pagerduty,
    "bugsnag": bugsnag,
}

__all__ = [
    "LEVELS",
    "RECEIVERS",
    "SOURCES",
    "STATES",
    "Alert",
    "AlertError",
    "AlertReceiver",
    "AlertRejected",
    "AlertUnauthorized",
    "Ignored",
    "Level",
    "Source",
    "State",
]
