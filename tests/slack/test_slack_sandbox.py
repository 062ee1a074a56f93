"""The sandbox runs the Slack emulator beside the others (its URL in the banner `make demo` prints),
the environment's Slack settings win over the sandbox's own, and `golive check` reports Slack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from testkit.sandbox import running_sandbox
from testkit.stack import wait_for

from bot.check import run_checks
from bot.sandbox import SandboxOptions, sandbox_settings
from bot.settings import Environment, Settings
from emulators.slack import SlackEmulatorConfig, create_slack_emulator


async def test_the_sandbox_runs_slack_with_both_channels_and_a_post_there_becomes_an_incident(
    tmp_path: Path, capsys
):
    async with running_sandbox(tmp_path) as urls:
        assert f"Slack console:     {urls.slack}/" in capsys.readouterr().out
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{urls.slack}/_emulator/channels") as response:
                channels = {c["name"]: c["id"] for c in (await response.json())["channels"]}
            assert {"check-in-go-live", "check-in-experience-apm"} <= set(channels)
            async with http.get(f"{urls.slack}/_emulator/people") as response:
                people = await response.json()
            assert any(p["role"] == "engineer" and p["email"] == "jane.doe@example.va.gov" for p in people)
            channel = channels["check-in-go-live"]
            body = {"user": "pat.frontdesk@example.org", "text": "Kiosk at 508 shows error E42"}
            async with http.post(
                f"{urls.slack}/_emulator/channels/{channel}/messages", json=body
            ) as response:
                posted = await response.json()
            assert posted["status"] == 200

            async def reply_with_number() -> Any:
                async with http.get(f"{urls.slack}/_emulator/channels/{channel}/messages") as response:
                    roots = await response.json()
                root = next(m for m in roots if m["ts"] == posted["ts"])
                return [r for r in root["replies"] if r.get("bot_id") and "INC" in r["text"]]

            assert await wait_for(reply_with_number, timeout=30)


def test_the_sandbox_points_the_bot_at_its_slack_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("GOLIVE_SLACK_API_URL", "GOLIVE_SLACK_SIGNING_SECRET", "GOLIVE_SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = sandbox_settings(SandboxOptions(slack_port=4981, state_dir=tmp_path), "team")
    assert settings.slack_enabled and settings.slack_api_url == "http://127.0.0.1:4981/api/"


def test_slack_settings_in_the_environment_win_over_the_sandboxs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("GOLIVE_SLACK_API_URL", "http://127.0.0.1:9999/api/")
    monkeypatch.setenv("GOLIVE_SLACK_SIGNING_SECRET", "secret-from-the-environment")
    settings = sandbox_settings(SandboxOptions(slack_port=4981, state_dir=tmp_path), "team")
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.slack_signing_secret.get_secret_value() == "secret-from-the-environment"


def check_settings(tmp_path: Path, **slack: Any) -> Settings:
    return Settings(
        env=Environment.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'check.db'}",
        servicenow_url="",
        **slack,
    )


async def test_golive_check_reports_slack_connectivity(aiohttp_server: Any, tmp_path: Path):
    server = await aiohttp_server(create_slack_emulator(SlackEmulatorConfig(bot_token="xoxb-check")))
    api = str(server.make_url("/api/"))
    ok = await run_checks(
        check_settings(tmp_path, slack_bot_token="xoxb-check", slack_signing_secret="s", slack_api_url=api)
    )
    [(status, _, detail)] = [r for r in ok if r[1] == "slack"]
    assert status == "ok" and "DSVA" in detail and "#check-in-go-live" in detail
    bad = await run_checks(
        check_settings(tmp_path, slack_bot_token="xoxb-wrong", slack_signing_secret="s", slack_api_url=api)
    )
    [(status, _, detail)] = [r for r in bad if r[1] == "slack"]
    assert status == "FAIL" and "invalid_auth" in detail
    off = await run_checks(check_settings(tmp_path))
    [(status, _, detail)] = [r for r in off if r[1] == "slack"]
    assert status == "ok" and detail.startswith("off")
