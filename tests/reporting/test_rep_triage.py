"""The rotation report counts the triage categories engineers chose (issue 17), in every format, and
the dashboard tells an inquiry still inside its five minutes ("waiting") from one that missed them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from testkit.bridge import fake_bridge

from bot.reporting.dashboard import late_labels, load_dashboard, render_dashboard
from bot.reporting.posting import report_view
from bot.reporting.rotation import (
    InquiryRow,
    RotationData,
    SiteRow,
    compute_rotation_report,
    render_csv,
    render_json,
    render_markdown,
)
from bot.teams.cards import rotation_report_card
from servicenow.routing import TRIAGE_CATEGORIES

WEEK = date(2022, 5, 2)
T0 = datetime(2022, 5, 2, 13, 0, tzinfo=UTC)
SITES = (
    SiteRow("508", "Atlanta", "America/New_York", WEEK, WEEK),
    SiteRow("644", "Phoenix", "America/Phoenix", WEEK, WEEK),
)


def row(n: int, station: str, triage: str | None) -> InquiryRow:
    return InquiryRow(
        id=n, station=station, posted_at=T0 + timedelta(minutes=n), go_live_day=1, triage=triage
    )


REPORT = compute_rotation_report(
    RotationData(
        WEEK,
        SITES,
        {},
        (row(1, "508", "Bug"), row(2, "508", "Bug"), row(3, "644", "Quick question"), row(4, "644", None)),
    )
)


def test_every_category_is_counted_in_the_handbooks_order():
    counts = {t.category: t.inquiries for t in REPORT.by_triage}
    assert list(counts) == [c.label for c in TRIAGE_CATEGORIES]
    assert (counts["Bug"], counts["Quick question"], counts["Training need"], REPORT.untriaged) == (
        2,
        1,
        0,
        1,
    )
    phoenix = next(s for s in REPORT.by_site if s.station == "644")
    assert {t.category: t.inquiries for t in phoenix.by_triage}[
        "Quick question"
    ] == 1 and phoenix.untriaged == 1


def test_the_categories_are_in_json_markdown_csv_and_the_report_card():
    assert '"category": "Bug"' in render_json(REPORT)
    markdown = render_markdown(REPORT)
    assert (
        "## By triage category" in markdown
        and "| Bug | 2 |" in markdown
        and "| (not triaged) | 1 |" in markdown
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(REPORT))))
    total = rows[-1]
    assert (total["station"], total["triage:Bug"], total["triage:Quick question"], total["untriaged"]) == (
        "TOTAL",
        "2",
        "1",
        "1",
    )
    assert rows[0]["triage:Bug"] == "2"
    card = str(rotation_report_card(report_view(REPORT)))
    assert "By triage category" in card and "'Bug'" in card and "Training need" not in card


async def test_the_dashboard_says_waiting_inside_the_five_minutes_and_missed_after(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        await bridge.post("508", "Kiosk shows error E42")
        await bridge.drain()
        bridge.clock.advance(minutes=4)
        counts = {
            c.label: c.count
            for c in (await load_dashboard(bridge.runtime.store, bridge.clock.now())).first_response
        }
        assert (counts["waiting"], counts["missed"]) == (1, 0)
        html = render_dashboard(await load_dashboard(bridge.runtime.store, bridge.clock.now()))
        assert '<rect class="bar" ' in html and "waiting: 1" in html  # not drawn red
        bridge.clock.advance(minutes=2)
        counts = {
            c.label: c.count
            for c in (await load_dashboard(bridge.runtime.store, bridge.clock.now())).first_response
        }
        assert (counts["waiting"], counts["missed"]) == (0, 1)
    assert "missed" in late_labels() and "waiting" not in late_labels() and "1–5 min" not in late_labels()


async def test_a_night_post_is_waiting_until_five_minutes_after_the_first_engineer_starts(tmp_path):
    night = datetime(2022, 5, 4, 1, 15, tzinfo=UTC)  # Tuesday 21:15 EDT
    async with fake_bridge(tmp_path, now=night) as bridge:
        await bridge.post("508", "Kiosk shows error E42")
        await bridge.drain()
        for now, expected in (
            (night + timedelta(hours=6), "waiting"),
            (datetime(2022, 5, 4, 12, 4, tzinfo=UTC), "waiting"),  # 08:04 EDT
            (datetime(2022, 5, 4, 12, 6, tzinfo=UTC), "missed"),
        ):
            data = await load_dashboard(bridge.runtime.store, now)
            assert {c.label: c.count for c in data.first_response}[expected] == 1, now


def test_assignees_are_counted_by_name():
    rows = (
        InquiryRow(1, "508", T0, 1, has_incident=True, assigned_to="jane.doe", assigned_to_name="Jane Doe"),
        InquiryRow(2, "508", T0, 1, has_incident=True, assigned_to="jane.doe", assigned_to_name="Jane Doe"),
        InquiryRow(3, "508", T0, 1, has_incident=True, assigned_to="old.login"),
    )
    report = compute_rotation_report(RotationData(WEEK, SITES, {}, rows))
    assert {a.assignee: a.incidents for a in report.by_assignee} == {"Jane Doe": 2, "old.login": 1}
