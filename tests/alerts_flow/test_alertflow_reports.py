"""Alerts in the rotation report (by source, time to acknowledge) and on the dashboard."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alertflow_support import alert_bridge
from testkit.bridge import ROSTER, person_of

from bot import views
from bot.reporting.dashboard import load_dashboard, render_dashboard
from bot.reporting.queries import load_rotation_data
from bot.reporting.rotation import compute_rotation_report, render_markdown

ENGINEER = person_of(next(iter(ROSTER.engineers.values())))


async def test_rotation_report_and_dashboard_count_alerts(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_max_new_per_minute=2) as alerts:
        for _ in range(3):
            await alerts.apply("sentry", group="11")
        await alerts.apply("datadog", group="c1")
        await alerts.apply("bugsnag", group="b1")  # beyond the limit: a storm
        await alerts.drain()
        alerts.bridge.clock.advance(minutes=2)
        await alerts.bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: "sentry:11"}, ENGINEER)
        await alerts.drain()

        store = alerts.bridge.runtime.store
        async with store.read() as connection:
            data = await load_rotation_data(connection, date(2022, 5, 2))
        report = compute_rotation_report(data)
        summary = report.to_dict()["alerts"]
        assert (summary["groups"], summary["alerts"], summary["incidents"], summary["storms"]) == (3, 5, 3, 1)
        assert {s["source"]: (s["groups"], s["alerts"], s["in_storm"]) for s in summary["by_source"]} == {
            "bugsnag": (1, 1, 1),
            "datadog": (1, 1, 0),
            "sentry": (1, 3, 0),
        }
        # Posts: two groups and the storm; one acknowledged after two minutes.
        assert (summary["acknowledged"], summary["unacknowledged"]) == (1, 2)
        assert summary["median_ack_s"] == 120.0 and summary["within_5_min"] == 1
        assert "## Monitoring alerts" in render_markdown(report)

        dashboard = await load_dashboard(store, alerts.bridge.clock.now())
        assert dashboard.alerts.groups == 3
        assert {line.source for line in dashboard.latest_alerts} == {"sentry", "datadog", "storm"}
        page = render_dashboard(dashboard)
        assert "Monitoring alerts (last 7 days)" in page and 'id="alert-groups">3<' in page


async def test_a_week_without_alerts_says_so(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path) as alerts:
        async with alerts.bridge.runtime.store.read() as connection:
            report = compute_rotation_report(await load_rotation_data(connection, date(2022, 5, 2)))
        assert report.to_dict()["alerts"]["groups"] == 0
        assert "No monitoring alerts this week." in render_markdown(report)
