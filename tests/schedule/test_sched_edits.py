"""Delivery-manager plan edits return a new plan or a friendly PlanEditError; diff describes changes."""

from datetime import UTC, date, datetime

import pytest

from schedule.edits import add_site, add_week, diff, move_site, pull_site, rename_site
from schedule.errors import PlanEditError
from schedule.plan import PlannedSite, RolloutPlan, Site

WEEK = date(2022, 5, 2)
ATLANTA = Site("508", "Atlanta", "America/New_York")
SYRACUSE = Site("528A7", "Syracuse", "America/New_York")
HONOLULU = Site("459", "Honolulu", "Pacific/Honolulu")
PLAN = RolloutPlan((PlannedSite.in_week(ATLANTA, WEEK), PlannedSite.in_week(SYRACUSE, WEEK)))


def test_add_week_adds_its_sites_with_their_go_live_dates():
    plan = add_week(
        PLAN,
        date(2022, 5, 9),
        [
            HONOLULU,
            PlannedSite.in_week(
                Site("644", "Phoenix", "America/Phoenix"), date(2022, 5, 9), date(2022, 5, 11)
            ),
        ],
    )
    assert plan.weeks() == [WEEK, date(2022, 5, 9)]
    assert plan.by_station()["644"].go_live_date == date(2022, 5, 11)
    assert plan.by_station()["459"].go_live_date == date(2022, 5, 9)
    assert PLAN.weeks() == [WEEK]  # the old plan is untouched


def test_add_week_refuses_an_existing_week_a_tuesday_and_no_sites():
    with pytest.raises(PlanEditError, match="already in the plan"):
        add_week(PLAN, WEEK, [HONOLULU])
    with pytest.raises(
        PlanEditError, match=r"is a Tuesday; rollout weeks start on a Monday \(did you mean 2022-05-09\?\)"
    ):
        add_week(PLAN, date(2022, 5, 10), [HONOLULU])
    with pytest.raises(PlanEditError, match="needs at least one site"):
        add_week(PLAN, date(2022, 5, 9), [])


def test_add_week_refuses_a_station_already_planned():
    with pytest.raises(PlanEditError, match="station 508 is already planned"):
        add_week(PLAN, date(2022, 5, 9), [HONOLULU, ATLANTA])


def test_add_site_refuses_go_live_outside_the_week():
    with pytest.raises(PlanEditError, match="not in the week of 2022-05-09"):
        add_site(PLAN, HONOLULU, date(2022, 5, 9), date(2022, 5, 16))


def test_move_site_changes_week_and_go_live_date():
    plan = move_site(PLAN, "508", date(2022, 5, 16), date(2022, 5, 18))
    entry = plan.by_station()["508"]
    assert (entry.week_start, entry.go_live_date) == (date(2022, 5, 16), date(2022, 5, 18))
    assert move_site(plan, "508", date(2022, 5, 16), date(2022, 5, 18)) == plan  # nothing to change


def test_move_site_refuses_unknown_station_and_an_already_finished_window():
    with pytest.raises(PlanEditError, match="station 999 is not in the rollout plan"):
        move_site(PLAN, "999", date(2022, 5, 9))
    now = datetime(2022, 5, 20, tzinfo=UTC)
    with pytest.raises(PlanEditError, match="has already ended"):
        move_site(PLAN, "508", date(2022, 6, 6), now=now)
    with pytest.raises(PlanEditError, match="already over"):
        move_site(
            RolloutPlan((PlannedSite.in_week(HONOLULU, date(2022, 6, 6)),)), "459", date(2022, 5, 9), now=now
        )


def test_pull_site_marks_it_pulled_and_refuses_twice():
    plan = pull_site(PLAN, "528A7")
    assert plan.by_station()["528A7"].pulled
    assert plan.sites_in_week(WEEK) == (PLAN.by_station()["508"],)
    with pytest.raises(PlanEditError, match="already been pulled"):
        pull_site(plan, "528A7")


def test_pull_site_refuses_a_site_whose_window_ended():
    with pytest.raises(PlanEditError, match="cannot pull 508 Atlanta"):
        pull_site(PLAN, "508", now=datetime(2022, 6, 1, tzinfo=UTC))


def test_moving_or_adding_a_pulled_site_puts_it_back():
    pulled = pull_site(PLAN, "508")
    assert not move_site(pulled, "508", date(2022, 6, 6)).by_station()["508"].pulled
    assert not add_site(pulled, ATLANTA, date(2022, 6, 6)).by_station()["508"].pulled


def test_rename_site_refuses_an_empty_name():
    with pytest.raises(PlanEditError, match="needs a name"):
        rename_site(PLAN, "508", "  ")


def test_diff_describes_each_change_for_dry_run_and_audit():
    new = add_site(PLAN, HONOLULU, date(2022, 5, 9))
    new = move_site(new, "508", date(2022, 5, 9), date(2022, 5, 11))
    new = pull_site(new, "528A7")
    new = rename_site(new, "459", "Honolulu VAMC")
    assert diff(PLAN, new) == [
        "pulled 528A7 Syracuse from the week of 2022-05-02",
        "added 459 Honolulu VAMC (Pacific/Honolulu) in the week of 2022-05-09",
        "moved 508 Atlanta from the week of 2022-05-02 to the week of 2022-05-09 (go-live Wed 2022-05-11)",
    ]


def test_diff_reports_re_planned_removed_renamed_and_rezoned_sites():
    pulled = pull_site(PLAN, "508")
    assert diff(pulled, move_site(pulled, "508", date(2022, 5, 9))) == [
        "re-planned 508 Atlanta (America/New_York) in the week of 2022-05-09"
    ]
    removed = RolloutPlan((PLAN.by_station()["508"],))
    assert diff(PLAN, removed) == ["removed 528A7 Syracuse from the week of 2022-05-02"]
    rezoned = RolloutPlan(
        (PlannedSite.in_week(Site("508", "Atlanta", "America/Chicago"), WEEK), PLAN.by_station()["528A7"])
    )
    assert diff(PLAN, rezoned) == [
        "changed the time zone of 508 Atlanta from America/New_York to America/Chicago"
    ]


def test_diff_of_equal_plans_is_empty():
    assert diff(PLAN, RolloutPlan(tuple(reversed(PLAN.entries)))) == []
