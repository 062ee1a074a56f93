"""Composition of the ServiceNow emulator: app factory, runner and a small command line.

The lead's CLI wires ``golive emulate servicenow --port P [--user U --password W] [--state-dir DIR]``
to :func:`main` (or builds an :class:`EmulatorConfig` and awaits :func:`run_servicenow_emulator`).
``--people FILE`` seeds a JSON list of people (see :func:`~emulators.servicenow.config.person_from`);
``--certfile``/``--keyfile`` serve HTTPS, which pysnc needs (it refuses ``http://`` instances).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import ssl
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
from emulators.servicenow.batch import add_batch_routes
from emulators.servicenow.config import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    ServiceNowPerson,
    person_from,
)
from emulators.servicenow.faults import FaultState
from emulators.servicenow.pages import add_page_routes
from emulators.servicenow.store import TableStore

__all__ = ["create_servicenow_emulator", "main", "parse_args", "run_servicenow_emulator"]

log = logging.getLogger("emulators.servicenow")

_PEOPLE = {"admin": ("System Administrator", "admin@example.com")}


def _seed(store: TableStore, config: EmulatorConfig) -> None:
    people = config.seeded_people
    named = {person.user_name for person in people}
    for login in config.logins:
        if login in named:
            continue  # seeded below with its real name and e-mail
        if login == config.integration_user:
            name, email = "Go Live Integration", ""
        else:
            name, email = _PEOPLE.get(login, (login, ""))
        store.seed_user(login, name, email)
    for person in people:
        store.seed_user(person.user_name, person.name, person.email)
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
    add_batch_routes(app)
    add_page_routes(app)
    return app


async def run_servicenow_emulator(
    host: str, port: int, config: EmulatorConfig | None = None, ssl_context: ssl.SSLContext | None = None
) -> None:
    """Serve the emulator on host:port until cancelled (HTTPS when given an SSL context)."""
    runner = web.AppRunner(create_servicenow_emulator(config), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        log.info("ServiceNow emulator on %s://%s:%s/", "https" if ssl_context else "http", host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _read_people(parser: argparse.ArgumentParser, path: Path | None) -> tuple[ServiceNowPerson, ...]:
    if path is None:
        return ()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise ValueError("the file must hold a JSON list")
        return tuple(person_from(entry) for entry in entries)
    except (OSError, ValueError) as exc:
        parser.error(f"--people {path}: {exc}")


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
    parser.add_argument(
        "--people",
        type=Path,
        help='JSON list of people to seed as sys_user: [{"user_name"?, "name", "email", "role"?}]',
    )
    parser.add_argument(
        "--certfile", type=Path, help="serve HTTPS with this PEM certificate (pysnc needs https)"
    )
    parser.add_argument(
        "--keyfile", type=Path, help="private key of --certfile (default: in the certificate file)"
    )
    args = parser.parse_args(argv)
    if args.keyfile and not args.certfile:
        parser.error("--keyfile needs --certfile")
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
        people=_read_people(parser, args.people),
        state_dir=args.state_dir,
        public_base_url=args.public_base_url,
    )
    return args.host, args.port, config


def _ssl_context(argv: Sequence[str] | None) -> ssl.SSLContext | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--certfile", type=Path)
    parser.add_argument("--keyfile", type=Path)
    known, _ = parser.parse_known_args(argv)
    if known.certfile is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(known.certfile, known.keyfile)
    return context


def main(argv: Sequence[str] | None = None) -> int:
    """``golive emulate servicenow ...``: serve until Ctrl-C."""
    host, port, config = parse_args(argv)
    context = _ssl_context(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheme = "https" if context else "http"
    print(f"ServiceNow emulator: {scheme}://{host}:{port}/  (Table API at /api/now/table/)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(host, port, config, context))
    return 0


async def _serve_until_signalled(
    host: str, port: int, config: EmulatorConfig, context: ssl.SSLContext | None
) -> None:
    serving = asyncio.create_task(run_servicenow_emulator(host, port, config, context))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving


if __name__ == "__main__":
    raise SystemExit(main())
