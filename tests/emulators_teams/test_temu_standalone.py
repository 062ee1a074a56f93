"""The emulator runs on its own: no botbuilder import, and run_teams_emulator serves until cancelled."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp
from aiohttp import web
from testkit.stack import reserve_port, wait_for

import emulators.teams.app
from emulators.teams import TeamsEmulatorConfig, run_teams_emulator


def test_emulator_and_graph_client_do_not_import_botbuilder():
    code = (
        "import sys, emulators.teams, bot.teams.graph; "
        "bad = sorted(m for m in sys.modules if m.startswith(('botbuilder', 'botframework'))); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_run_teams_emulator_serves_without_a_bot_and_stops_on_cancel(monkeypatch):
    # run_teams_emulator binds (host, port) itself; here its listener is a socket the test already
    # holds, so no other process can take the port between choosing it and serving on it.
    sock = reserve_port()
    monkeypatch.setattr(
        emulators.teams.app.web, "TCPSite", lambda runner, host, port: web.SockSite(runner, sock)
    )
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = TeamsEmulatorConfig(bot_url="http://127.0.0.1:9/api/messages", public_url=base)
    task = asyncio.create_task(run_teams_emulator("127.0.0.1", sock.getsockname()[1], config))
    try:
        async with aiohttp.ClientSession() as session:

            async def teams_listed():
                try:
                    async with session.get(base + "v1.0/teams") as resp:
                        return await resp.json()
                except aiohttp.ClientConnectionError:  # the task has not started serving yet
                    return None

            teams = await wait_for(teams_listed, timeout=10, interval=0.02)
            assert teams["value"][0]["displayName"] == "Go Live"
            async with session.post(base + "_emulator/install", json={}) as resp:
                assert (await resp.json())["status"] == 502  # no bot listening: reported, not fatal
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert sock.fileno() == -1  # cancelling stopped the server: its listening socket is closed
