"""The rotation report from a fixture database matches the hand-computed figures."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from testkit.reporting import EXPECTED, EXPECTED_ENGINEERS, EXPECTED_SITES, WEEK, seeded_database

from bot.reporting.cli import build_report
from bot.reporting.rotation import (
    InvalidWeek,
    RotationData,
    compute_rotation_report,
    parse_week,
    percentile_nearest_rank,
    render_csv,
    render_json,
    render_markdown,
)
from bot.settings import Settings
from bot.views import RotationReportView


@pytest.fixture
async def report(tmp_path):
    url = await seeded_database(tmp_path)
    return await build_report(Settings(env="development", database_url=url), WEEK)


async def test_report_totals_match_hand_computed_numbers(report):
    data = report.to_dict()
    assert data["week"] == EXPECTED["week"]
    assert data["sites"] == EXPECTED["sites"]
    assert data["inquiries"] == EXPECTED["inquiries"]
    assert data["outside_window"] == EXPECTED["outside_window"]
    assert data["first_response"] == EXPECTED["first_response"]
    assert data["re_routes"] == EXPECTED["re_routes"]
    assert data["pending_incidents"] == EXPECTED["pending_incidents"]
    assert data["open_at_retirement"] == EXPECTED["open_at_retirement"]
    assert [i["number"] for i in data["open_at_retirement_incidents"]] == EXPECTED["open_numbers"]
    assert data["still_open"] == EXPECTED["still_open"]


async def test_report_breaks_down_by_site_day_group_and_escalation_level(report):
    data = report.to_dict()
    assert [(s["station"], s["name"], s["inquiries"]) for s in data["by_site"]] == EXPECTED["by_site"]
    assert [(d["day"], d["inquiries"]) for d in data["by_day"]] == EXPECTED["by_day"]
    assert [(g["group"], g["incidents"]) for g in data["by_group"]] == EXPECTED["by_group"]
    escalations = data["escalations"]
    assert escalations["total"] == EXPECTED["escalations"]["total"]
    assert escalations["inquiries"] == EXPECTED["escalations"]["inquiries"]
    assert [(x["level"], x["escalations"]) for x in escalations["by_level"]] == EXPECTED["escalations"][
        "by_level"
    ]
    assert [s["station"] for s in data["next_week"]["sites"]] == EXPECTED["next_week"]
    assert data["next_week"]["week"] == "2022-05-09"


async def test_each_site_has_its_own_figures_per_day_of_its_window(report):
    for site in report.to_dict()["by_site"]:
        expected = EXPECTED_SITES[site["station"]]
        assert site["inquiries"] == expected["inquiries"]
        assert [d["inquiries"] for d in site["by_day"]] == expected["by_day"]
        assert site["first_response"]["median_s"] == expected["median_s"]
        assert site["first_response"]["p90_s"] == expected["p90_s"]
        assert site["first_response"]["within_5_min"] == expected["within_5_min"]
        assert site["re_routes"] == expected["re_routes"]
        assert site["escalations"] == expected["escalations"]
        assert site["open_at_retirement"] == expected["open_at_retirement"]
        assert site["still_open"] == expected["still_open"]
    statuses = {s["station"]: s["channel_status"] for s in report.to_dict()["by_site"]}
    assert statuses == {"508": "retired", "640": "open", "528A7": "retired"}


async def test_per_engineer_counts_first_responses_and_escalations_received(report):
    engineers = {
        e["name"]: (e["first_responses"], e["median_s"], e["within_5_min"], e["escalations_received"])
        for e in report.to_dict()["per_engineer"]
    }
    assert engineers == EXPECTED_ENGINEERS
    assignees = {a["assignee"]: (a["incidents"], a["still_open"]) for a in report.to_dict()["by_assignee"]}
    assert assignees == {"alex.kim": (2, 1), "sam.lee": (1, 1)}


async def test_a_week_without_sites_reports_zeros(tmp_path):
    url = await seeded_database(tmp_path)
    empty = await build_report(Settings(env="development", database_url=url), date(2023, 1, 2))
    data = empty.to_dict()
    assert data["inquiries"] == 0
    assert data["by_site"] == []
    assert [d["inquiries"] for d in data["by_day"]] == [0] * 7
    assert data["first_response"] == {
        "answered": 0,
        "unanswered": 0,
        "median_s": None,
        "p90_s": None,
        "within_5_min": 0,
        "within_5_min_share": None,
    }
    assert data["re_routes"] == 0 and data["open_at_retirement"] == 0


def test_report_json_feeds_the_rotation_card_view(report):
    view = RotationReportView.from_report(json.loads(render_json(report)))
    assert view.inquiries == 8
    assert view.first_response.median_s == 270.0
    assert [(s.station, s.inquiries) for s in view.by_site] == [("508", 4), ("640", 0), ("528A7", 4)]
    assert view.by_day[0] == ("1", 3)
    assert view.open_at_retirement == 4


def test_markdown_and_csv_carry_the_same_figures(report):
    markdown = render_markdown(report)
    assert markdown.startswith("# Rotation report: week of 2022-05-02")
    assert "| Median first response | 4 min 30 s |" in markdown
    assert "| 508 | Atlanta | 2022-05-02 | retired | 4 | 2 | 1 | 1 | 0 | 0 | 0 | 0 |" in markdown
    assert "[INC0000009](https://sn.example/incident/9)" in markdown
    assert "| 459 | Honolulu | 2022-05-09 | Pacific/Honolulu |" in markdown

    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [r["station"] for r in rows] == ["508", "640", "528A7", "TOTAL"]
    total = rows[-1]
    assert total["inquiries"] == "8" and total["median_s"] == "270.0" and total["p90_s"] == "1800.0"
    assert [total[f"day_{d}"] for d in range(1, 8)] == ["3", "2", "1", "0", "0", "0", "1"]
    assert total["incidents:Scheduling Support"] == "4" and total["re_routes"] == "4"
    assert rows[0]["open_at_retirement"] == "3" and rows[1]["median_s"] == ""


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.9, None),
        ([7.0], 0.9, 7.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9, 10),
        ([5, 1, 3], 0.5, 3),
    ],
)
def test_p90_is_the_nearest_rank_percentile(values, fraction, expected):
    assert percentile_nearest_rank(values, fraction) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2022-05-03", "Tuesday; give the Monday of the rollout week (2022-05-02)"),
        ("05/02/2022", "not a date in YYYY-MM-DD form"),
        ("20220502", "not a date in YYYY-MM-DD form"),
        ("2022-02-30", "not a valid date"),
    ],
)
def test_week_must_be_a_monday_in_iso_form(value, message):
    with pytest.raises(InvalidWeek, match=re.escape(message)):
        parse_week(value)
    assert parse_week("2022-05-02") == WEEK


def test_pure_computation_needs_no_database():
    report = compute_rotation_report(
        RotationData(week=WEEK, sites=(), channels={}, inquiries=()), window_days=3
    )
    assert [d.day for d in report.by_day] == [1, 2, 3]
    assert report.week_end == "2022-05-08"
