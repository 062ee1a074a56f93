"""``golive alerts datadog-template | send-sample SOURCE``: setting up and trying the alert webhooks.

- ``datadog-template`` prints the JSON payload to paste into Datadog's webhook integration.
- ``send-sample SOURCE [--url URL] [--group G] [--state S] [--title T]`` signs a realistic sample
  delivery (``bot.alerts.samples``) with the configured secret (``GOLIVE_SENTRY_CLIENT_SECRET``...;
  the sandbox's development secret when none is set) and POSTs it to the bot's ``/alerts/SOURCE``,
  then prints the answer. Send the same ``--group`` again for a repeat, ``--state recovered`` (or
  ``resolved``) to end it.

Exit codes: 0 the bot accepted the delivery, 1 it answered otherwise or could not be reached, 2 bad
usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.alerts.model import SOURCES, Source
from bot.cli import CliError, _settings

if TYPE_CHECKING:
    from bot.settings import Settings


def cmd_datadog_template(args: argparse.Namespace) -> int:
    from bot.alerts.datadog import datadog_template

    sys.stdout.write(datadog_template())
    return 0


def secret_for(settings: Settings, source: Source) -> str:
    from bot.alerts.development import DEVELOPMENT_SECRETS

    configured = {
        "sentry": settings.sentry_client_secret,
        "datadog": settings.datadog_webhook_token,
        "pagerduty": settings.pagerduty_webhook_secret,
        "bugsnag": settings.bugsnag_webhook_token,
    }[source].get_secret_value()
    return configured or DEVELOPMENT_SECRETS[source]


def cmd_send_sample(args: argparse.Namespace) -> int:
    from bot.alerts.samples import SAMPLE_STATES, sample_payload

    source: Source = args.source
    settings = _settings()
    url = (args.url or f"http://127.0.0.1:{settings.port}").rstrip("/")
    try:
        headers, body, query = sample_payload(
            source,
            secret=secret_for(settings, source),
            now=datetime.now(UTC),
            group=args.group,
            state=args.state,
            title=args.title,
        )
    except ValueError as error:
        states = "; ".join(f"{kind}: {', '.join(states)}" for kind, states in SAMPLE_STATES.items())
        raise CliError(f"{error} ({states})") from None
    status, answer = asyncio.run(_post(f"{url}/alerts/{source}", headers, body, query))
    print(f"{source} sample -> {url}/alerts/{source}: HTTP {status} {answer}")
    return 0 if 200 <= status < 300 else 1


async def _post(url: str, headers: dict[str, str], body: bytes, query: dict[str, str]) -> tuple[int, str]:
    import aiohttp

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.post(url, data=body, headers=headers, params=query) as response:
                return response.status, (await response.text())[:300]
    except (aiohttp.ClientError, TimeoutError) as error:
        return 0, f"could not reach the bot ({type(error).__name__})"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], delegate: Any) -> None:
    """``golive alerts ...`` (called by ``bot.cli.build_parser``)."""
    alerts = sub.add_parser("alerts", help="monitoring-alert webhooks: Datadog template, sample alerts")
    alerts_sub = alerts.add_subparsers(dest="action", metavar="ACTION")
    alerts_sub.required = True
    template = alerts_sub.add_parser("datadog-template", help="print the Datadog webhook payload to paste")
    template.set_defaults(handler=delegate("bot.alerts_cli", "cmd_datadog_template"))
    sample = alerts_sub.add_parser("send-sample", help="send a signed sample alert to the bot")
    sample.add_argument("source", choices=SOURCES)
    sample.add_argument(
        "--url", default=None, help="the bot's base URL (default http://127.0.0.1:GOLIVE_PORT)"
    )
    sample.add_argument("--group", default=None, help="the alert group (same group: a repeat)")
    sample.add_argument(
        "--state", default="triggered", help="triggered, recovered, resolved, acknowledged..."
    )
    sample.add_argument("--title", default=None)
    sample.set_defaults(handler=delegate("bot.alerts_cli", "cmd_send_sample"))


__all__ = ["add_parser", "cmd_datadog_template", "cmd_send_sample"]
