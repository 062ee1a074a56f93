"""The emulator on its own: `run_slack_emulator` and `golive emulate slack` serve without a bot."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp import web
from testkit.stack import reserve_port, wait_for

import emulators.slack.app
from emulators.slack import SlackEmulatorConfig, run_slack_emulator

GOLIVE = Path(sys.executable).with_name("golive")


async def answering(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    """The first answer from ``url`` once the server listens (connections are refused until then)."""

    async def answer() -> aiohttp.ClientResponse | None:
        try:
            resp = await session.get(url)
        except aiohttp.ClientConnectionError:
            return None
        await resp.read()
        return resp

    return await wait_for(answer, timeout=20, interval=0.04)


async def test_run_slack_emulator_serves_without_a_bot_and_stops_on_cancel(monkeypatch):
    # run_slack_emulator binds (host, port) itself; here its listener is a socket the test already
    # holds, so no other process can take the port between choosing it and serving on it.
    sock = reserve_port()
    monkeypatch.setattr(
        emulators.slack.app.web, "TCPSite", lambda runner, host, port: web.SockSite(runner, sock)
    )
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"
    config = SlackEmulatorConfig(bot_url="http://127.0.0.1:9/slack/events", public_url=base)
    task = asyncio.create_task(run_slack_emulator("127.0.0.1", port, config))
    try:
        async with aiohttp.ClientSession() as session:
            channels = await (await answering(session, base + "_emulator/channels")).json()
            channel = channels["channels"][0]["id"]
            people = await (await session.get(base + "_emulator/people")).json()
            body = {"user": people[0]["id"], "text": "anyone?"}
            async with session.post(f"{base}_emulator/channels/{channel}/messages", json=body) as resp:
                assert (await resp.json())["status"] == 502  # no bot listening: reported, not fatal
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert sock.fileno() == -1  # cancelling stopped the server: its listening socket is closed


async def test_golive_emulate_slack_takes_its_secrets_from_the_environment(tmp_path):
    env = os.environ | {
        "GOLIVE_SLACK_SIGNING_SECRET": "from-env-secret",
        "GOLIVE_SLACK_BOT_TOKEN": "xoxb-from-env",
    }
    # `golive emulate slack --port` binds the port itself, in another process: the port is picked
    # free and released just before (the one kind of server in the tests that cannot be handed a
    # socket the test holds).
    with reserve_port() as probe:
        port = probe.getsockname()[1]
    command = [str(GOLIVE), "emulate", "slack", "--port", str(port), "--state-dir", str(tmp_path)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        async with aiohttp.ClientSession() as session:
            await answering(session, base + "_emulator/channels")
            async with session.post(
                base + "api/auth.test", headers={"Authorization": "Bearer xoxb-from-env"}
            ) as resp:
                assert (await resp.json())["ok"] is True
            async with session.post(
                base + "api/auth.test", headers={"Authorization": "Bearer xoxb-golive-dev-token"}
            ) as resp:
                assert (await resp.json())["error"] == "invalid_auth"
            people = await (await session.get(base + "_emulator/people")).json()
            roles = {p["role"] for p in people}
            assert roles == {"site-staff", "engineer", "manager"}
            assert any(p["email"].endswith("@example.va.gov") for p in people if p["role"] == "engineer")
            channels = await (await session.get(base + "_emulator/channels")).json()
            body = {"user": people[0]["id"], "text": "kept on disk"}
            async with session.post(
                f"{base}_emulator/channels/{channels['channels'][0]['id']}/messages", json=body
            ):
                pass
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"Slack emulator: {base}" in output.decode()
    assert "kept on disk" in (tmp_path / "slack_emulator.json").read_text()
