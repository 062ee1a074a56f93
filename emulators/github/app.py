"""Composition of the GitHub emulator: app factory, runner and a small command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from emulators.github.api import add_api_routes
from emulators.github.config import BOT_LOGIN, DEFAULT_REPO, DEFAULT_TOKEN, GitHubEmulatorConfig, sample_repos
from emulators.github.driver import add_driver_routes
from emulators.github.gateway import (
    CALLS_KEY,
    FAULTS_KEY,
    RATES_KEY,
    STORE_KEY,
    RateWindows,
    api_middleware,
    new_faults,
)
from emulators.github.store import IssueStore
from emulators.injected_faults import CallLog
from emulators.serving import serve_until_cancelled, serve_until_signalled

__all__ = ["create_github_emulator", "main", "run_github_emulator"]


def create_github_emulator(config: GitHubEmulatorConfig | None = None) -> web.Application:
    """A fresh emulated GitHub as an aiohttp app (raises ValueError for an inconsistent config)."""
    config = config or GitHubEmulatorConfig()
    config.check()
    app = web.Application(middlewares=[api_middleware])
    app[STORE_KEY] = IssueStore(config)
    app[FAULTS_KEY] = new_faults()
    app[CALLS_KEY] = CallLog()
    app[RATES_KEY] = RateWindows(config.core_limit, config.search_limit)
    add_api_routes(app)
    add_driver_routes(app)
    return app


async def run_github_emulator(host: str, port: int, config: GitHubEmulatorConfig | None = None) -> None:
    """Serve the emulator on host:port until cancelled."""
    await serve_until_cancelled(create_github_emulator(config), host, port)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emulators.github --port P``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m emulators.github", description="GitHub issues emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3984)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    token = os.environ.get("GOLIVE_GITHUB_TOKEN") or DEFAULT_TOKEN
    repo = os.environ.get("GOLIVE_GITHUB_REPO") or DEFAULT_REPO
    config = GitHubEmulatorConfig(
        tokens={token: BOT_LOGIN}, repos=sample_repos(repo), state_dir=args.state_dir
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"GitHub emulator: http://{args.host}:{args.port}/ (repository {repo})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_until_signalled(create_github_emulator(config), args.host, args.port))
    return 0
