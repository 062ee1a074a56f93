"""Which site a post in a watched channel is about: a station number or a site name in the text,
narrowed to the open sites; otherwise nobody guesses and the picker offers the open sites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bridge.sites import open_sites, site_named_in
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings
from schedule.sample import sample_plan

PLAN = sample_plan()
WINDOW = WindowSettings()
TUESDAY = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "station"),
    [
        ("Kiosk at 508 shows E42", "508"),
        ("kiosk at station 528a7 is down", "528A7"),
        ("The Atlanta kiosks are down", "508"),
        ("san juan: no pre-check-in texts", "672"),
        ("Error 5080 on the kiosk", None),  # not a whole word
        ("Kiosk shows E42", None),
        ("508 and 644 both down", None),
        ("", None),
    ],
)
def test_a_station_or_site_name_named_in_the_text_is_found(text: str, station: str | None):
    site = site_named_in(text, PLAN, WINDOW, TUESDAY)
    assert (site.station if site else None) == station


def test_an_open_site_wins_over_one_whose_window_is_closed():
    plan = RolloutPlan.of(
        [
            PlannedSite.in_week(Site("101", "Columbia", "America/New_York"), datetime(2022, 5, 2).date()),
            PlannedSite.in_week(Site("102", "Columbia", "America/Chicago"), datetime(2022, 6, 6).date()),
        ]
    )
    assert site_named_in("Columbia kiosk", plan, WINDOW, TUESDAY).station == "101"


def test_a_longer_name_wins_over_a_name_inside_it():
    plan = RolloutPlan.of(
        [
            PlannedSite.in_week(Site("201", "Columbia", "America/New_York"), datetime(2022, 5, 2).date()),
            PlannedSite.in_week(Site("202", "Columbia SC", "America/New_York"), datetime(2022, 5, 2).date()),
        ]
    )
    assert site_named_in("Columbia SC kiosk down", plan, WINDOW, TUESDAY).station == "202"


def test_open_sites_are_those_whose_go_live_window_holds_the_moment():
    stations = {entry.station for entry in open_sites(PLAN, WINDOW, TUESDAY)}
    assert {"508", "528A7", "459"} <= stations
    assert not stations & {entry.station for entry in PLAN.sites_in_week(datetime(2022, 5, 9).date())}


@settings(max_examples=300, derandomize=True)
@given(st.text(max_size=80))
def test_any_text_names_at_most_one_site_of_the_plan(text: str):
    site = site_named_in(text, PLAN, WINDOW, TUESDAY)
    assert site is None or site in PLAN.entries
