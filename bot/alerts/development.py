"""The sandbox's alert secrets: known values so ``golive alerts send-sample`` and the sandbox agree
without any set-up. Development only; ``golive serve`` never falls back to them, and a secret set in
the environment always wins (docs/CONTRACTS.md section 3: the environment wins over the sandbox's
own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bot.alerts.model import Source

DEVELOPMENT_SECRETS: Final[Mapping[Source, str]] = {
    "sentry": "golive-dev-sentry-client-secret",
    "datadog": "golive-dev-datadog-token",
    "pagerduty": "golive-dev-pagerduty-secret",
    "bugsnag": "golive-dev-bugsnag-token",
}
