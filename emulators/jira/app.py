"""Composition of the Jira Cloud emulator: app factory, runner and a small command line."""

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
from emulators.jira.api import CALLS_KEY, FAULTS_KEY, STORE_KEY, add_api_routes, api_middleware
from emulators.jira.config import (
    BOT_EMAIL,
    DEFAULT_API_TOKEN,
    DEFAULT_PROJECT,
    JiraEmulatorConfig,
    JiraUser,
    account_id_for,
    sample_projects,
    sample_users,
)
from emulators.jira.driver import add_driver_routes
from emulators.jira.store import JiraStore
from emulators.serving import serve_until_cancelled, serve_until_signalled

__all__ = ["config_for_account", "create_jira_emulator", "main", "run_jira_emulator"]


def create_jira_emulator(config: JiraEmulatorConfig | None = None) -> web.Application:
    """A fresh emulated Jira site as an aiohttp app (raises ValueError for an inconsistent config)."""
    config = config or JiraEmulatorConfig()
    config.check()
    app = web.Application(middlewares=[api_middleware])
    app[STORE_KEY] = JiraStore(config)
    app[FAULTS_KEY] = InjectedFaults()
    app[CALLS_KEY] = CallLog()
    add_api_routes(app)
    add_driver_routes(app)
    return app


async def run_jira_emulator(host: str, port: int, config: JiraEmulatorConfig | None = None) -> None:
    """Serve the emulator on host:port until cancelled."""
    await serve_until_cancelled(create_jira_emulator(config), host, port)


def config_for_account(
    email: str, token: str, project: str = DEFAULT_PROJECT, state_dir: Path | str | None = None
) -> JiraEmulatorConfig:
    """The sample site with ``email``/``token`` as the bot's credentials (the user is added if new)."""
    users = sample_users()
    if all(u.email.lower() != email.lower() for u in users):
        users = (*users, JiraUser(account_id_for(email), "Go Live Bridge", email))
    return JiraEmulatorConfig(
        accounts={email: token}, users=users, projects=sample_projects(project), state_dir=state_dir
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emulators.jira --port P``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m emulators.jira", description="Jira Cloud emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3985)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    config = config_for_account(
        os.environ.get("GOLIVE_JIRA_USER") or BOT_EMAIL,
        os.environ.get("GOLIVE_JIRA_TOKEN") or DEFAULT_API_TOKEN,
        os.environ.get("GOLIVE_JIRA_PROJECT") or DEFAULT_PROJECT,
        args.state_dir,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"Jira emulator: http://{args.host}:{args.port}/ (REST API under /rest/api/3/)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_signalled(create_jira_emulator(config), args.host, args.port))
    return 0
