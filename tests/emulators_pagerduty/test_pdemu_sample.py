"""The emulators' sample engineers and rotation are the sandbox roster's; the CLI serves them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta

import aiohttp
import pytest
from pdemu_support import AUTH, TOKEN

from bot.cli import build_parser, cmd_emulate_integration
from emulators.sample_engineers import SAMPLE_ENGINEERS
from schedule.sample import sample_roster


def test_sample_engineers_are_the_sample_rosters():
    roster = sample_roster()
    assert [(e.key, e.name, e.email, e.time_zone) for e in SAMPLE_ENGINEERS] == [
        (e.key, e.name, e.email, e.time_zone) for e in roster.engineers.values()
    ]


async def test_the_sample_rotation_names_every_weeks_primary_and_backup_of_the_roster(pd):
    roster = sample_roster()
    emails = {e.key: e.email for e in roster.engineers.values()}
    weeks = roster.weeks
    params = [("include[]", "users"), ("time_zone", "UTC"), ("limit", "100")]
    seen = {}
    for first in range(0, len(weeks), 8):
        start = weeks[first].week_start
        window = [("since", f"{start}T00:00:00Z"), ("until", f"{start + timedelta(weeks=8)}T00:00:00Z")]
        body = await (await pd.get("/oncalls", params=[*window, *params], headers=AUTH)).json()
        for oncall in body["oncalls"]:
            seen[(oncall["start"][:10], oncall["escalation_level"])] = oncall["user"]["email"]
    for week in weeks:
        assert seen[(week.week_start.isoformat(), 1)] == emails[week.primary], week.week_start
        assert seen[(week.week_start.isoformat(), 2)] == emails[week.backup], week.week_start


@pytest.mark.parametrize("name", ["pagerduty", "github", "jira"])
def test_golive_emulate_has_a_command_for_each_integration(name):
    args = build_parser().parse_args(["emulate", name, "--port", "0", "--state-dir", "x"])
    assert args.handler is cmd_emulate_integration
    assert (args.emulator, args.port, args.state_dir) == (name, 0, "x")


async def test_golive_emulate_pagerduty_serves_with_the_token_from_the_environment(unused_tcp_port):
    env = {**os.environ, "GOLIVE_PAGERDUTY_TOKEN": TOKEN}
    code = "from bot.cli import main; raise SystemExit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "emulate", "pagerduty", "--port", str(unused_tcp_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{unused_tcp_port}"
        status = None
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(f"{base}/users/PJANEDO", headers=AUTH) as resp:
                        status = resp.status
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            assert status == 200
            async with session.get(
                f"{base}/users", headers={"Authorization": "Token token=golive-dev-pagerduty-token"}
            ) as resp:
                assert resp.status == 401  # the environment's token replaces the development default
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
