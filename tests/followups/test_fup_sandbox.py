"""The sandbox runs the PagerDuty, GitHub and Jira emulators: its roster is PagerDuty's (synced at
start, as the dashboard says) and a "Follow-up issue" press files an issue in the GitHub emulator."""

from __future__ import annotations

import aiohttp
import pytest
from testkit.sandbox import running_sandbox
from testkit.stack import wait_for

from bot.sandbox import SandboxOptions, integration_settings, sandbox_settings

pytestmark = pytest.mark.slow

STAFF = {"name": "Pat Frontdesk", "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001"}
JANE = {"name": "Jane Doe", "aadObjectId": "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"}


async def test_the_sandbox_roster_comes_from_pagerduty_and_a_follow_up_lands_in_github(tmp_path):
    async with running_sandbox(tmp_path) as urls:
        assert urls.pagerduty and urls.github and urls.jira
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{urls.bot}/dashboard/data.json") as response:
                source = (await response.json())["roster_source"]
            assert source["source"] == "PagerDuty" and source["schedules"] == ["PPRIMRY", "PBACKUP"]
            assert source["last_sync_at"] and source["failing"] is False

            async def channel() -> str | None:
                async with http.get(f"{urls.teams}/_emulator/channels") as response:
                    found = [c for c in (await response.json())["channels"] if c.get("station") == "508"]
                return found[0]["id"] if found else None

            channel_id = await wait_for(channel)
            async with http.post(
                f"{urls.teams}/_emulator/channels/{channel_id}/messages",
                json={"from": STAFF, "text": "Kiosk prints blank labels"},
            ) as response:
                root = (await response.json())["id"]

            async def card() -> dict | None:
                async with http.get(f"{urls.teams}/_emulator/channels/{channel_id}/threads") as response:
                    thread = next(t for t in await response.json() if t["id"] == root)
                return next((r for r in thread["replies"] if r["attachments"]), None)

            posted = await wait_for(card)
            content = posted["attachments"][0]["content"]
            button = next(
                a
                for e in content["body"]
                if e.get("type") == "ActionSet"
                for a in e["actions"]
                if a["verb"] == "followup"
            )
            async with http.post(
                f"{urls.teams}/_emulator/actions",
                json={
                    "activityId": posted["id"],
                    "verb": button["verb"],
                    "data": button["data"],
                    "from": JANE,
                },
            ) as response:
                assert (await response.json())["body"]["statusCode"] == 200

            async def issues() -> list:
                async with http.get(f"{urls.github}/_emulator/issues") as response:
                    return list(await response.json())

            [issue] = await wait_for(issues)
            assert issue["repo"] == "golive-bridge/go-live-followups" and issue["assignees"] == ["jane-doe"]
            assert sorted(issue["labels"]) == ["follow-up", "go-live"]


def test_an_integration_setting_in_the_environment_wins_over_the_sandbox_emulator(monkeypatch):
    options = SandboxOptions(pagerduty_port=4001, github_port=4002, jira_port=4003)
    assert integration_settings(options)["github_api_url"] == "http://127.0.0.1:4002"
    monkeypatch.setenv("GOLIVE_GITHUB_API_URL", "http://127.0.0.1:5555")
    monkeypatch.setenv("GOLIVE_PAGERDUTY_TOKEN", "their-own")
    chosen = integration_settings(options)
    assert "github_api_url" not in chosen and "pagerduty_token" not in chosen
    assert chosen["pagerduty_api_url"] == "http://127.0.0.1:4001"
    settings = sandbox_settings(options, "team")
    assert settings.github_api_url == "http://127.0.0.1:5555"
    assert settings.pagerduty_token.get_secret_value() == "their-own"
    assert settings.github_repo == "golive-bridge/go-live-followups"
