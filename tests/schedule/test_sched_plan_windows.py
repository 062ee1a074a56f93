"""Go-live windows are computed on the site's own clock, across DST and in zones without DST."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedule.errors import InvalidScheduleValue
from schedule.plan import (
    GoLiveWindow,
    PlannedSite,
    RolloutPlan,
    Site,
    WindowSettings,
    go_live_day,
    window_for,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def planned(station: str, zone: str, week: date, go_live: date | None = None) -> PlannedSite:
    return PlannedSite.in_week(Site(station, f"Site {station}", zone), week, go_live)


WEEK = date(2022, 5, 2)


@pytest.mark.parametrize(
    ("zone", "opens_utc", "retires_utc"),
    [
        ("Pacific/Honolulu", utc(2022, 5, 2, 17), utc(2022, 5, 10, 3)),  # UTC-10, no DST
        ("America/Anchorage", utc(2022, 5, 2, 15), utc(2022, 5, 10, 1)),  # AKDT UTC-8
        ("America/Phoenix", utc(2022, 5, 2, 14), utc(2022, 5, 10, 0)),  # MST all year, UTC-7
        ("America/Puerto_Rico", utc(2022, 5, 2, 11), utc(2022, 5, 9, 21)),  # AST UTC-4, no DST
        ("Asia/Manila", utc(2022, 5, 1, 23), utc(2022, 5, 9, 9)),  # UTC+8: opens the previous UTC day
        ("America/New_York", utc(2022, 5, 2, 11), utc(2022, 5, 9, 21)),
    ],
)
def test_window_opens_at_local_7_on_go_live_day_and_retires_7_days_later_at_local_17(
    zone, opens_utc, retires_utc
):
    window = window_for(planned("508", zone, WEEK), WindowSettings())
    assert (window.opens_at, window.retires_at) == (opens_utc, retires_utc)
    assert window.opens_local.hour == 7 and window.opens_local.date() == WEEK
    assert window.retires_local.hour == 17 and window.retires_local.date() == WEEK + timedelta(days=7)


def test_window_instants_are_utc():
    window = window_for(planned("459", "Pacific/Honolulu", WEEK), WindowSettings())
    assert window.opens_at.utcoffset() == timedelta(0)
    assert window.retires_at.utcoffset() == timedelta(0)


def test_window_spanning_november_dst_change_retires_at_local_17():
    # Week of 2022-10-31, go-live Tuesday 2022-11-01; clocks fall back on Sunday 2022-11-06.
    entry = planned("508", "America/New_York", date(2022, 10, 31), date(2022, 11, 1))
    window = window_for(entry, WindowSettings())
    assert window.opens_at == utc(2022, 11, 1, 11)  # 07:00 EDT (UTC-4)
    assert window.retires_at == utc(2022, 11, 8, 22)  # 17:00 EST (UTC-5)
    assert window.opens_local.tzname() == "EDT" and window.opens_local.hour == 7
    assert window.retires_local.tzname() == "EST" and window.retires_local.hour == 17
    # a window of 7 local days is 7 days and 11 hours long in UTC when the clocks go back an hour
    assert window.retires_at - window.opens_at == timedelta(days=7, hours=11)


def test_window_spanning_march_dst_change_opens_at_local_7_est_and_retires_at_local_17_edt():
    entry = planned("528A7", "America/New_York", date(2022, 3, 7), date(2022, 3, 10))
    window = window_for(entry, WindowSettings())
    assert window.opens_at == utc(2022, 3, 10, 12)  # 07:00 EST
    assert window.retires_at == utc(2022, 3, 17, 21)  # 17:00 EDT


def test_phoenix_window_does_not_move_when_the_rest_of_the_country_changes_clocks():
    entry = planned("644", "America/Phoenix", date(2022, 10, 31), date(2022, 11, 1))
    window = window_for(entry, WindowSettings())
    assert window.opens_at == utc(2022, 11, 1, 14)
    assert window.retires_at == utc(2022, 11, 9, 0)


def test_window_settings_change_hours_and_length():
    entry = planned("463", "America/Anchorage", WEEK)
    window = window_for(entry, WindowSettings(open_hour=8, window_days=5, retire_hour=12))
    assert window.opens_local == datetime(2022, 5, 2, 8, tzinfo=ZoneInfo("America/Anchorage"))
    assert window.retires_local == datetime(2022, 5, 7, 12, tzinfo=ZoneInfo("America/Anchorage"))


def test_mid_week_go_live_date_moves_the_window():
    window = window_for(planned("672", "America/Puerto_Rico", WEEK, date(2022, 5, 4)), WindowSettings())
    assert window.opens_at == utc(2022, 5, 4, 11)
    assert window.retires_at == utc(2022, 5, 11, 21)


def test_window_contains_opening_instant_but_not_retiring_instant():
    window = window_for(planned("508", "America/New_York", WEEK), WindowSettings())
    assert window.contains(window.opens_at)
    assert not window.contains(window.opens_at - timedelta(microseconds=1))
    assert window.contains(window.retires_at - timedelta(microseconds=1))
    assert not window.contains(window.retires_at)


def test_go_live_day_counts_local_days_from_one():
    entry = planned("358", "Asia/Manila", WEEK)
    assert go_live_day(entry, WindowSettings(), utc(2022, 5, 1, 22, 59)) is None
    assert go_live_day(entry, WindowSettings(), utc(2022, 5, 1, 23)) == 1  # 07:00 Monday in Manila
    assert go_live_day(entry, WindowSettings(), utc(2022, 5, 2, 16)) == 2  # 00:00 Tuesday in Manila
    assert go_live_day(entry, WindowSettings(), utc(2022, 5, 9, 8, 59)) == 8  # Monday after, before 17:00
    assert go_live_day(entry, WindowSettings(), utc(2022, 5, 9, 9)) is None


def test_go_live_day_refuses_naive_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        go_live_day(planned("508", "America/New_York", WEEK), WindowSettings(), datetime(2022, 5, 3, 12))


def test_planned_site_rejects_a_week_that_does_not_start_on_monday():
    with pytest.raises(InvalidScheduleValue, match="not a Monday"):
        planned("508", "America/New_York", date(2022, 5, 3))


def test_planned_site_rejects_go_live_outside_its_week():
    with pytest.raises(InvalidScheduleValue, match="outside the week"):
        planned("508", "America/New_York", WEEK, date(2022, 5, 9))


def test_site_rejects_unknown_time_zone():
    with pytest.raises(InvalidScheduleValue, match="IANA"):
        Site("508", "Atlanta", "Eastern")


def test_window_settings_reject_impossible_hours():
    with pytest.raises(InvalidScheduleValue):
        WindowSettings(open_hour=24)
    with pytest.raises(InvalidScheduleValue):
        WindowSettings(window_days=0, open_hour=17, retire_hour=7)


def test_plan_sorts_entries_and_rejects_repeated_station():
    b = planned("528A7", "America/New_York", date(2022, 5, 9))
    a = planned("508", "America/New_York", WEEK)
    assert RolloutPlan((b, a)) == RolloutPlan((a, b))
    assert RolloutPlan((b, a)).entries == (a, b)
    with pytest.raises(InvalidScheduleValue, match="twice"):
        RolloutPlan((a, planned("508", "America/Chicago", date(2022, 5, 9))))


def test_plan_weeks_and_lookup_leave_out_pulled_sites():
    a = planned("508", "America/New_York", WEEK)
    b = PlannedSite(
        Site("644", "Phoenix", "America/Phoenix"), date(2022, 5, 9), date(2022, 5, 9), pulled=True
    )
    plan = RolloutPlan((a, b))
    assert plan.weeks() == [WEEK]
    assert plan.sites_in_week(date(2022, 5, 9)) == ()
    assert plan.by_station()["644"].pulled
    assert plan.active() == (a,)


def test_window_is_a_value():
    window = window_for(planned("508", "America/New_York", WEEK), WindowSettings())
    assert isinstance(window, GoLiveWindow)
    assert window == window_for(planned("508", "America/New_York", WEEK), WindowSettings())
    with pytest.raises(AttributeError):
        window.station = "509"  # type: ignore[misc]
