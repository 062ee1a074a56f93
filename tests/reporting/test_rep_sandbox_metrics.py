"""Metrics move when the sandbox handles inquiries; the report CLI reads what the sandbox did."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from testkit.sandbox import running_sandbox
from testkit.stack import wait_for

from bot.cli import main

pytestmark = pytest.mark.slow

STAFF = {"name": "Pat Frontdesk", "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001"}


def figure(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


async def test_metrics_move_when_the_sandbox_handles_inquiries(tmp_path, monkeypatch, capsys):
    async with running_sandbox(tmp_path) as urls:
        bot, teams = urls.bot, urls.teams
        async with aiohttp.ClientSession() as http:

            async def scrape() -> str:
                async with http.get(f"{bot}/metrics") as response:
                    assert response.status == 200
                    return await response.text()

            async def open_channel():
                async with http.get(f"{teams}/_emulator/channels") as response:
                    channels = (await response.json())["channels"]
                return next((c["id"] for c in channels if c["goLive"] and c["state"] == "open"), None)

            channel = await wait_for(open_channel, timeout=30)  # a go-live channel opened in the sandbox
            before = await scrape()
            for text in ("Kiosk shows error E42", "Pre-check-in link does not open"):
                async with http.post(
                    f"{teams}/_emulator/channels/{channel}/messages", json={"from": STAFF, "text": text}
                ) as response:
                    assert response.status == 200

            async def incidents_created():
                text = await scrape()
                created = figure(text, "golive_incidents_created_total")
                return text if created >= figure(before, "golive_incidents_created_total") + 2 else None

            after = await wait_for(incidents_created, timeout=30)
            assert figure(after, "golive_inquiries_total") == figure(before, "golive_inquiries_total") + 2
            assert figure(after, "golive_open_incidents") >= 2
            dashboard = await http.get(f"{bot}/dashboard")
            assert dashboard.status == 200
            assert "Kiosk" not in await dashboard.text()  # the dashboard never shows inquiry text
    capsys.readouterr()

    monkeypatch.setenv("GOLIVE_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox' / 'golive.db'}")
    monkeypatch.chdir(tmp_path)
    # the CLI runs its own event loop, so it runs in a thread here as it would in a shell
    assert (
        await asyncio.to_thread(main, ["report", "rotation", "--week", "2022-05-02", "--format", "json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["inquiries"] == 2
    assert sum(d["inquiries"] for d in report["by_day"]) == 2
