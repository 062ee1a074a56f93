"""The sample plan is the original rollout and the shipped CSV files are generated from the same data."""

import itertools
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from schedule.csvio import export_rollout_csv, parse_rollout_csv
from schedule.plan import WindowSettings, window_for
from schedule.reconciler import reconcile
from schedule.roster import duty_at, export_roster_csv, parse_roster_csv
from schedule.sample import sample_plan, sample_rollout_csv, sample_roster, sample_roster_csv

REGENERATE = "regenerate with: GOLIVE_WRITE_SAMPLE_CSV=1 .venv/bin/pytest tests/schedule/test_sched_sample.py"
DATA = Path(__file__).resolve().parents[2] / "schedule" / "data"


@pytest.fixture(autouse=True, scope="module")
def _write_sample_csv_when_asked():
    """Developers regenerate the shipped CSV files from sample.py with GOLIVE_WRITE_SAMPLE_CSV=1."""
    if os.environ.get("GOLIVE_WRITE_SAMPLE_CSV") == "1":
        (DATA / "sample_rollout.csv").write_text(export_rollout_csv(sample_plan()), encoding="utf-8")
        (DATA / "sample_roster.csv").write_text(export_roster_csv(sample_roster()), encoding="utf-8")


def test_sample_plan_is_17_weeks_from_2022_05_02_to_2022_08_22_about_7_sites_a_week():
    plan = sample_plan()
    weeks = plan.weeks()
    assert weeks[0] == date(2022, 5, 2) and weeks[-1] == date(2022, 8, 22) and len(weeks) == 17
    assert all(later - earlier == timedelta(weeks=1) for earlier, later in itertools.pairwise(weeks))
    assert all(6 <= len(plan.sites_in_week(week)) <= 8 for week in weeks)


def test_sample_plan_uses_the_real_stations_and_zones_named_in_the_brief():
    sites = {entry.station: entry.site for entry in sample_plan().entries}
    assert (sites["508"].name, sites["508"].time_zone) == ("Atlanta", "America/New_York")
    assert sites["528A7"].name == "Syracuse"
    assert sites["459"].time_zone == "Pacific/Honolulu"
    assert sites["463"].time_zone == "America/Anchorage"
    assert sites["644"].time_zone == "America/Phoenix"
    assert sites["672"].time_zone == "America/Puerto_Rico"
    assert sites["358"].time_zone == "Asia/Manila"


def test_sample_plan_has_mid_week_go_lives():
    assert sum(entry.go_live_date != entry.week_start for entry in sample_plan().entries) >= 5


def test_demo_instant_has_go_live_channels_to_open():
    actions = reconcile(sample_plan(), {}, datetime(2022, 5, 3, 15, tzinfo=UTC), WindowSettings())
    assert len(actions) >= 5 and {a.kind for a in actions} == {"open"}


def test_shipped_rollout_csv_is_the_sample_plan():
    assert sample_rollout_csv() == export_rollout_csv(sample_plan()), REGENERATE
    assert parse_rollout_csv(sample_rollout_csv()) == sample_plan()


def test_shipped_roster_csv_is_the_sample_roster():
    assert sample_roster_csv() == export_roster_csv(sample_roster()), REGENERATE
    assert parse_roster_csv(sample_roster_csv()) == sample_roster()


def test_sample_roster_covers_every_sample_week_with_a_production_engineer():
    roster = sample_roster()
    assert [week.week_start for week in roster.weeks] == sample_plan().weeks()
    for week in roster.weeks:
        assert (
            roster.engineers[week.primary].production_access
            or roster.engineers[week.backup].production_access
        )
    zones = {engineer.time_zone for engineer in roster.engineers.values()}
    assert {
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Phoenix",
        "Pacific/Honolulu",
    } <= zones
    assert any(week.fallback for week in roster.weeks) and any(week.observers for week in roster.weeks)


def test_sample_roster_is_on_duty_during_every_sample_window():
    roster, plan = sample_roster(), sample_plan()
    for entry in plan.active():
        window = window_for(entry, WindowSettings())
        assert duty_at(roster, window.opens_at + timedelta(hours=12)).primary is not None, entry.station
