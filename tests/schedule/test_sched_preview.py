"""Preview lists the open and retire actions of a plan in [from, to), sorted, in the public JSON shape."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings
from schedule.preview import PlannedAction, preview, preview_json
from schedule.sample import sample_plan


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


WEEK = date(2022, 5, 2)
PLAN = RolloutPlan(
    (
        PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), WEEK),
        PlannedSite.in_week(Site("459", "Honolulu", "Pacific/Honolulu"), WEEK),
        PlannedSite.in_week(Site("358", "Manila", "Asia/Manila"), WEEK),
        PlannedSite.in_week(Site("672", "San Juan", "America/Puerto_Rico"), WEEK, date(2022, 5, 4)),
    )
)


def test_empty_plan_previews_as_empty_json_array():
    assert preview(RolloutPlan(), WindowSettings(), utc(2022, 1, 1), utc(2023, 1, 1)) == []
    assert preview_json([]) == "[]"


def test_preview_is_sorted_by_instant_across_zones():
    actions = preview(PLAN, WindowSettings(), utc(2022, 4, 1), utc(2022, 6, 1))
    assert [(a.action, a.station) for a in actions] == [
        ("open", "358"),  # 07:00 Manila is 23:00 UTC the day before
        ("open", "508"),
        ("open", "459"),
        ("open", "672"),
        ("retire", "358"),
        ("retire", "508"),
        ("retire", "459"),
        ("retire", "672"),
    ]
    assert [a.at for a in actions] == sorted(a.at for a in actions)


def test_preview_json_shape_is_at_action_station_name_with_utc_offset():
    actions = preview(PLAN, WindowSettings(), utc(2022, 5, 2), utc(2022, 5, 3))
    rows = json.loads(preview_json(actions))
    assert rows == [
        {"at": "2022-05-02T11:00:00+00:00", "action": "open", "station": "508", "name": "Atlanta"},
        {"at": "2022-05-02T17:00:00+00:00", "action": "open", "station": "459", "name": "Honolulu"},
    ]
    for row in rows:
        assert datetime.fromisoformat(row["at"]).utcoffset() == timedelta(0)


def test_preview_json_text_order_matches_time_order():
    rows = json.loads(
        preview_json(preview(sample_plan(), WindowSettings(), utc(2022, 1, 1), utc(2023, 1, 1)))
    )
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    assert len(rows) == 2 * len(sample_plan().active())


def test_preview_includes_start_and_excludes_end():
    opens = utc(2022, 5, 2, 11)  # 508 Atlanta opens
    assert [a.station for a in preview(PLAN, WindowSettings(), opens, opens + timedelta(seconds=1))] == [
        "508"
    ]
    assert preview(PLAN, WindowSettings(), opens - timedelta(hours=1), opens) == []


def test_preview_shows_retire_at_local_17_window_days_later():
    actions = preview(PLAN, WindowSettings(), utc(2022, 5, 9), utc(2022, 5, 10))
    retire_508 = next(a for a in actions if a.station == "508")
    assert retire_508 == PlannedAction(utc(2022, 5, 9, 21), "retire", "508", "Atlanta")


def test_preview_leaves_out_pulled_sites():
    pulled = PlannedSite(Site("644", "Phoenix", "America/Phoenix"), WEEK, WEEK, pulled=True)
    plan = RolloutPlan((*PLAN.entries, pulled))
    assert all(a.station != "644" for a in preview(plan, WindowSettings(), utc(2022, 4, 1), utc(2022, 6, 1)))


def test_preview_follows_window_settings():
    actions = preview(PLAN, WindowSettings(open_hour=9), utc(2022, 5, 2), utc(2022, 5, 3))
    assert next(a.at for a in actions if a.station == "508") == utc(2022, 5, 2, 13)  # 09:00 EDT


def test_preview_refuses_naive_bounds():
    with pytest.raises(ValueError, match="timezone-aware"):
        preview(PLAN, WindowSettings(), datetime(2022, 5, 2), utc(2022, 5, 3))
