"""The Teams emulator's aiohttp application: connector, Graph, driver API and console on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from importlib import resources

from aiohttp import web

from emulators.teams import connector, driver, graph_api, tab_sso
from emulators.teams.config import TeamsEmulatorConfig
from emulators.teams.keys import EMULATOR
from emulators.teams.service import TeamsEmulator

STATIC = resources.files("emulators.teams") / "static"


async def console_page(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=(STATIC / "index.html").read_text(encoding="utf-8"),
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )


def create_teams_emulator(config: TeamsEmulatorConfig) -> web.Application:
    app = web.Application()
    app[EMULATOR] = TeamsEmulator(config)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await app[EMULATOR].start()
        yield
        await app[EMULATOR].stop()

    app.cleanup_ctx.append(lifecycle)
    connector.add_routes(app)
    graph_api.add_routes(app)
    driver.add_routes(app)
    tab_sso.add_routes(app)
    app.router.add_get("/", console_page)
    app.router.add_static("/_emulator/static", str(STATIC))
    return app


async def run_teams_emulator(host: str, port: int, config: TeamsEmulatorConfig) -> None:
    """Serve until cancelled."""
    runner = web.AppRunner(create_teams_emulator(config), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
