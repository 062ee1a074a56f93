"""The Slack emulator's aiohttp application: Web API, driver API and console on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from importlib import resources

from aiohttp import web

from emulators.slack import driver, web_api
from emulators.slack.config import SlackEmulatorConfig
from emulators.slack.keys import EMULATOR
from emulators.slack.service import SlackEmulator

STATIC = resources.files("emulators.slack") / "static"


async def console_page(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=(STATIC / "index.html").read_text(encoding="utf-8"),
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def create_slack_emulator(config: SlackEmulatorConfig) -> web.Application:
    """A fresh emulated workspace (Web API at /api/{method}, driver API, console) as an aiohttp app."""
    app = web.Application()
    app[EMULATOR] = SlackEmulator(config)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await app[EMULATOR].start()
        yield
        await app[EMULATOR].stop()

    app.cleanup_ctx.append(lifecycle)
    web_api.add_routes(app)
    driver.add_routes(app)
    app.router.add_get("/", console_page)
    app.router.add_static("/_emulator/static", str(STATIC))
    return app


async def run_slack_emulator(host: str, port: int, config: SlackEmulatorConfig) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(create_slack_emulator(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
