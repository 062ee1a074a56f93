"""``golive alerts datadog-template`` and ``golive alerts send-sample`` against a bot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from alertflow_support import SECRETS, AlertBridge

from bot.cli import main


def test_datadog_template_has_every_key_the_contract_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "datadog-template"]) == 0
    template = json.loads(capsys.readouterr().out)
    for key in (
        "id",
        "alert_id",
        "alert_cycle_key",
        "aggreg_key",
        "alert_transition",
        "alert_type",
        "event_title",
        "link",
        "date",
        "priority",
        "tags",
    ):
        assert template[key] == f"${key.upper()}"


async def test_send_sample_signs_with_the_configured_secret(alerts: AlertBridge, monkeypatch: Any) -> None:
    monkeypatch.setenv("GOLIVE_PAGERDUTY_WEBHOOK_SECRET", SECRETS["pagerduty"])
    base = str(alerts.client.make_url("")).rstrip("/")
    command = ["alerts", "send-sample", "pagerduty", "--url", base, "--group", "PCLI1"]
    assert await asyncio.to_thread(main, command) == 0
    assert await asyncio.to_thread(main, [*command, "--state", "resolved"]) == 0
    await alerts.drain()
    row = await alerts.row("pagerduty:PCLI1")
    assert (row.count, row.state) == (2, "resolved")


async def test_send_sample_with_the_wrong_secret_is_refused(alerts: AlertBridge, monkeypatch: Any) -> None:
    monkeypatch.setenv("GOLIVE_SENTRY_CLIENT_SECRET", "not the bot's secret")
    base = str(alerts.client.make_url("")).rstrip("/")
    assert await asyncio.to_thread(main, ["alerts", "send-sample", "sentry", "--url", base]) == 1


def test_send_sample_names_the_states_a_source_supports(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["alerts", "send-sample", "datadog", "--state", "acknowledged", "--url", "http://127.0.0.1:9"])
        == 2
    )
    assert "datadog: triggered, recovered" in capsys.readouterr().err
