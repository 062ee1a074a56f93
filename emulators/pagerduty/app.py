"""Composition of the PagerDuty emulator: app factory, runner and a small command line.

Plain HTTP on purpose: the product calls the REST API directly with aiohttp (the official
``pagerduty`` client refuses any base URL that is not https).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from emulators.injected_faults import CallLog, InjectedFaults
from emulators.pagerduty.account import PagerDutyAccount
from emulators.pagerduty.api import ACCOUNT_KEY, CALLS_KEY, FAULTS_KEY, add_api_routes, api_middleware
from emulators.pagerduty.config import DEFAULT_TOKEN, PagerDutyEmulatorConfig
from emulators.pagerduty.driver import add_driver_routes
from emulators.serving import serve_until_cancelled, serve_until_signalled

__all__ = ["create_pagerduty_emulator", "main", "run_pagerduty_emulator"]

log = logging.getLogger("emulators.pagerduty")


def create_pagerduty_emulator(config: PagerDutyEmulatorConfig | None = None) -> web.Application:
    """A fresh emulated account as an aiohttp app (raises ValueError for an inconsistent config)."""
    app = web.Application(middlewares=[api_middleware])
    app[ACCOUNT_KEY] = PagerDutyAccount(config or PagerDutyEmulatorConfig())
    app[FAULTS_KEY] = InjectedFaults()
    app[CALLS_KEY] = CallLog()
    add_api_routes(app)
    add_driver_routes(app)
    return app


async def run_pagerduty_emulator(host: str, port: int, config: PagerDutyEmulatorConfig | None = None) -> None:
    """Serve the emulator on host:port until cancelled."""
    await serve_until_cancelled(create_pagerduty_emulator(config), host, port)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emulators.pagerduty --port P``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m emulators.pagerduty", description="PagerDuty emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3983)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    token = os.environ.get("GOLIVE_PAGERDUTY_TOKEN") or DEFAULT_TOKEN
    config = PagerDutyEmulatorConfig(tokens=(token,), state_dir=args.state_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"PagerDuty emulator: http://{args.host}:{args.port}/ (REST API v2)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_signalled(create_pagerduty_emulator(config), args.host, args.port))
    return 0
