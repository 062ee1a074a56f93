"""Composition of the ServiceNow emulator: app factory, runner and a small command line.

The lead's CLI wires ``golive emulate servicenow --port P [--user U --password W] [--state-dir DIR]``
to :func:`main` (or builds an :class:`EmulatorConfig` and awaits :func:`run_servicenow_emulator`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from emulators.servicenow.api import (
    CONFIG_KEY,
    FAULTS_KEY,
    STORE_KEY,
    add_table_api_routes,
    table_api_middleware,
)
from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER, EmulatorConfig
from emulators.servicenow.faults import FaultState
from emulators.servicenow.pages import add_page_routes
from emulators.servicenow.store import TableStore

__all__ = ["create_servicenow_emulator", "main", "parse_args", "run_servicenow_emulator"]

log = logging.getLogger("emulators.servicenow")

_PEOPLE = {"admin": ("System Administrator", "admin@example.com")}


def _seed(store: TableStore, config: EmulatorConfig) -> None:
    for login in config.logins:
        if login == config.integration_user:
            name, email = "Go Live Integration", ""
        else:
            name, email = _PEOPLE.get(login, (login, ""))
        store.seed_user(login, name, email)
    for user_name, name, email in config.engineers:
        store.seed_user(user_name, name, email)
    for group in config.groups:
        store.seed_group(group, "Seeded by the Go Live Bridge emulator")


def create_servicenow_emulator(config: EmulatorConfig | None = None) -> web.Application:
    """A fresh emulated instance (Table API, fault injection, queue page) as an aiohttp app."""
    config = config or EmulatorConfig()
    app = web.Application(middlewares=[table_api_middleware])
    app[CONFIG_KEY] = config
    app[FAULTS_KEY] = FaultState()

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        store = TableStore(config.database_path, config.clock)
        _seed(store, config)
        app[STORE_KEY] = store
        yield
        store.close()

    app.cleanup_ctx.append(store_ctx)
    add_table_api_routes(app)
    add_page_routes(app)
    return app


async def run_servicenow_emulator(host: str, port: int, config: EmulatorConfig | None = None) -> None:
    """Serve the emulator on host:port until cancelled."""
    runner = web.AppRunner(create_servicenow_emulator(config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("ServiceNow emulator on http://%s:%s/", host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def parse_args(argv: Sequence[str] | None = None) -> tuple[str, int, EmulatorConfig]:
    parser = argparse.ArgumentParser(prog="golive emulate servicenow", description="ServiceNow emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3979)
    parser.add_argument("--user", help="basic-auth login (default admin)")
    parser.add_argument("--password", help="password of --user (default admin)")
    parser.add_argument(
        "--state-dir", type=Path, help="keep records in DIR/servicenow.db (created if missing)"
    )
    parser.add_argument("--tier2-group", default="Scheduling Support")
    parser.add_argument("--product-group", default="eCheck-in Vet Facing Apps")
    parser.add_argument(
        "--public-base-url", default="", help="base URL used in links (default: request host)"
    )
    args = parser.parse_args(argv)
    user = args.user or "admin"
    password = args.password if args.password is not None else ("admin" if args.user is None else "")
    if not password:
        parser.error("--password is required with --user")
    logins = {user: password, INTEGRATION_USER: INTEGRATION_PASSWORD}
    if user == INTEGRATION_USER:
        logins = {user: password}
    config = EmulatorConfig(
        logins=logins,
        tier2_group=args.tier2_group,
        product_group=args.product_group,
        state_dir=args.state_dir,
        public_base_url=args.public_base_url,
    )
    return args.host, args.port, config


def main(argv: Sequence[str] | None = None) -> int:
    """``golive emulate servicenow ...``: serve until Ctrl-C."""
    host, port, config = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"ServiceNow emulator: http://{host}:{port}/  (Table API at /api/now/table/)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(host, port, config))
    return 0


async def _serve_until_signalled(host: str, port: int, config: EmulatorConfig) -> None:
    serving = asyncio.create_task(run_servicenow_emulator(host, port, config))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving


if __name__ == "__main__":
    raise SystemExit(main())
