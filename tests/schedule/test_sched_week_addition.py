"""The add-week form reports every problem at once, including what add_week would refuse later."""

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.edits import add_week, pull_site
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings
from schedule.week_addition import validate_week_addition

WEEK = date(2022, 5, 2)
PLAN = RolloutPlan(
    (
        PlannedSite.in_week(Site("508", "Atlanta", "America/New_York"), WEEK),
        PlannedSite.in_week(Site("528A7", "Syracuse", "America/New_York"), WEEK),
    )
)
NOW = datetime(2022, 5, 3, 15, tzinfo=UTC)


def test_a_good_form_gives_the_week_and_its_sites_and_add_week_accepts_them():
    week, entries, problems = validate_week_addition(
        PLAN,
        " 2022-05-23 ",
        '600,Chicago,America/Chicago\n\n601,"Denver, CO",America/Denver,2022-05-25\n',
        NOW,
    )
    assert problems == [] and week == date(2022, 5, 23)
    assert entries == [
        PlannedSite.in_week(Site("600", "Chicago", "America/Chicago"), week),
        PlannedSite(Site("601", "Denver, CO", "America/Denver"), week, date(2022, 5, 25)),
    ]
    assert len(add_week(PLAN, week, entries, now=NOW).sites_in_week(week)) == 2


def test_every_problem_is_reported_at_once_including_stations_already_planned():
    sites = (
        "508,Atlanta,America/New_York\n"  # 1: already planned
        "600,Chicago,Central\n"  # 2: time zone
        "601,Denver,America/Denver,2022-06-01\n"  # 3: outside the week
        "600,Chicago again,America/Chicago\n"  # 4: listed twice
        "602,Tulsa,America/Chicago,5/24/2022\n"  # 5: date form
        "603,,America/Chicago,2022-05-24,extra\n"  # 6: two problems
        "528a7,Syracuse,America/New_York\n"  # 7: already planned, whatever its case
    )
    week, entries, problems = validate_week_addition(PLAN, "2022-05-23", sites, NOW)
    assert week == date(2022, 5, 23) and entries == []
    assert problems == [
        "site line 1: station 508 is already planned (508 Atlanta, the week of 2022-05-02); "
        "use move to change its week",
        "site line 2: time_zone 'Central' is not an IANA time zone (like America/New_York)",
        "site line 3: go_live_date 2022-06-01 is outside the week of 2022-05-23 (2022-05-23 to 2022-05-29)",
        "site line 4: station 600 already appeared on site line 2",
        'site line 5: go_live_date "5/24/2022" is not a date in YYYY-MM-DD form (for example 2022-05-24)',
        "site line 6: more values than a site line has (station,name,time_zone,go_live_date)",
        "site line 6: name is empty",
        "site line 7: station 528A7 is already planned (528A7 Syracuse, the week of 2022-05-02); "
        "use move to change its week",
    ]


def test_a_bad_week_is_reported_with_the_site_problems_too():
    week, entries, problems = validate_week_addition(
        PLAN, "2022-05-24", "508,Atlanta,America/New_York\n600,X,Mars/Base"
    )
    assert (week, entries) == (None, [])
    assert problems == [
        "week start 2022-05-24 is a Tuesday, not a Monday",
        "site line 1: station 508 is already planned (508 Atlanta, the week of 2022-05-02); "
        "use move to change its week",
        "site line 2: time_zone 'Mars/Base' is not an IANA time zone (like America/New_York)",
    ]
    assert validate_week_addition(PLAN, "5/23/2022", "600,X,America/Chicago")[2] == [
        'week start "5/23/2022" is not a date in YYYY-MM-DD form (for example 2022-05-23)'
    ]


def test_a_week_already_in_the_plan_and_an_empty_form():
    assert validate_week_addition(PLAN, "2022-05-02", "600,Chicago,America/Chicago")[2] == [
        "the week of 2022-05-02 is already in the plan; add sites to it one by one"
    ]
    assert validate_week_addition(PLAN, "", "  \n")[2] == [
        "the week start is empty",
        "add at least one site (station,name,time_zone[,go_live_date])",
    ]


def test_lines_are_numbered_as_typed():
    week, sites, problems = validate_week_addition(PLAN, "2022-05-23", "\n600,,America/Chicago\n")
    assert week == date(2022, 5, 23) and sites == []
    assert problems == ["site line 2: name is empty"]


def test_a_window_already_over_is_refused_and_a_pulled_station_may_come_back():
    late = datetime(2022, 6, 10, tzinfo=UTC)
    assert validate_week_addition(PLAN, "2022-05-23", "600,Chicago,America/Chicago", late)[2] == [
        "site line 1: cannot plan 600 Chicago: its go-live window (the week of 2022-05-23) has already ended"
    ]
    pulled = pull_site(PLAN, "508")
    week, entries, problems = validate_week_addition(
        pulled, "2022-05-23", "508,Atlanta,America/New_York", NOW
    )
    assert problems == [] and entries[0].station == "508"
    assert not add_week(pulled, week, entries, now=NOW).get("508").pulled


site_lines = st.lists(
    st.tuples(
        st.sampled_from(["508", "600", "601", "602", "", "528a7"]),
        st.sampled_from(["Chicago", "", "Denver, CO"]),
        st.sampled_from(["America/Chicago", "Mars/Base", "", "Pacific/Guam"]),
        st.sampled_from(["", "2022-05-25", "2022-06-01", "5/25/2022"]),
    ),
    max_size=6,
).map(lambda rows: "\n".join(",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.sampled_from(["2022-05-23", "2022-05-02", "2022-05-24", "", "2022-5-23"]), site_lines, st.booleans()
)
def test_when_the_form_has_no_problems_add_week_accepts_it_and_otherwise_nothing_is_returned(
    week_text, sites, late
):
    now = datetime(2022, 6, 10, tzinfo=UTC) if late else NOW
    week, entries, problems = validate_week_addition(PLAN, week_text, sites, now, WindowSettings())
    if problems:
        assert entries == []
    else:
        assert week is not None
        new = add_week(PLAN, week, entries, now=now, settings=WindowSettings())
        assert [e.station for e in new.sites_in_week(week)] == sorted(
            (e.station for e in entries), key=lambda s: (new.get(s).go_live_date, s)
        )
