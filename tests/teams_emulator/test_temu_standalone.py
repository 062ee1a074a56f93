"""The emulator runs on its own: no botbuilder import, and run_teams_emulator serves until cancelled."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp

from emulators.teams import TeamsEmulatorConfig, run_teams_emulator


def test_emulator_and_graph_client_do_not_import_botbuilder():
    code = (
        "import sys, emulators.teams, bot.teams.graph; "
        "bad = sorted(m for m in sys.modules if m.startswith(('botbuilder', 'botframework'))); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_run_teams_emulator_serves_without_a_bot_and_stops_on_cancel(unused_tcp_port):
    base = f"http://127.0.0.1:{unused_tcp_port}/"
    config = TeamsEmulatorConfig(bot_url="http://127.0.0.1:9/api/messages", public_url=base)
    task = asyncio.create_task(run_teams_emulator("127.0.0.1", unused_tcp_port, config))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(base + "v1.0/teams") as resp:
                        teams = await resp.json()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            assert teams["value"][0]["displayName"] == "Go Live"
            async with session.post(base + "_emulator/install", json={}) as resp:
                assert (await resp.json())["status"] == 502  # no bot listening: reported, not fatal
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
