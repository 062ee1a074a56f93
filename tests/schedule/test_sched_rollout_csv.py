"""Rollout CSV import is all-or-nothing and names every bad row; export and import round-trip."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.csvio import export_rollout_csv, parse_rollout_csv
from schedule.errors import LineError, PlanImportError
from schedule.plan import PlannedSite, RolloutPlan, Site

HEADER = "week_start,station,name,time_zone,go_live_date\n"


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(PlanImportError) as caught:
        parse_rollout_csv(text)
    return [str(error) for error in caught.value.errors]


def test_import_reads_sites_and_defaults_go_live_to_the_monday():
    plan = parse_rollout_csv(
        HEADER
        + "2022-05-02,508,Atlanta,America/New_York,\n2022-05-02,528a7,Syracuse,America/New_York,2022-05-04\n"
    )
    assert plan.by_station()["508"].go_live_date == date(2022, 5, 2)
    assert plan.by_station()["528A7"].go_live_date == date(2022, 5, 4)  # station upper-cased
    assert plan.by_station()["528A7"].site == Site("528A7", "Syracuse", "America/New_York")


def test_go_live_date_column_is_optional():
    plan = parse_rollout_csv("week_start,station,name,time_zone\n2022-05-02,459,Honolulu,Pacific/Honolulu\n")
    assert plan.entries == (
        PlannedSite(Site("459", "Honolulu", "Pacific/Honolulu"), date(2022, 5, 2), date(2022, 5, 2)),
    )


def test_columns_may_come_in_any_order_and_any_case():
    plan = parse_rollout_csv("Station,Time_Zone,Name,Week_Start\n644,America/Phoenix,Phoenix,2022-05-02\n")
    assert plan.by_station()["644"].time_zone == "America/Phoenix"


def test_utf8_bom_is_tolerated_in_text_and_bytes():
    text = "\ufeff" + HEADER + "2022-05-02,672,San Juan,America/Puerto_Rico,\n"
    assert parse_rollout_csv(text) == parse_rollout_csv(text.encode("utf-8"))
    assert parse_rollout_csv(text).by_station()["672"].name == "San Juan"


def test_non_ascii_names_survive():
    plan = parse_rollout_csv((HEADER + "2022-05-02,672,Río Piedras,America/Puerto_Rico,\n").encode("utf-8"))
    assert plan.by_station()["672"].name == "Río Piedras"


def test_bytes_that_are_not_utf8_are_reported_with_their_line():
    data = (HEADER + "2022-05-02,672,R").encode() + b"\xedo,America/Puerto_Rico,\n"
    assert errors_of(data) == ["line 2: the file is not UTF-8 text"]


def test_blank_lines_and_crlf_are_fine_and_line_numbers_count_them():
    text = "week_start,station,name,time_zone\r\n\r\n2022-05-02,508,Atlanta,America/New_York\r\n2022-05-03,509,Augusta,America/New_York\r\n"
    assert errors_of(text) == ["line 4: week_start 2022-05-03 is a Tuesday, not a Monday"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",508,Atlanta,America/New_York,", "week_start is empty"),
        ("2022-05-02,,Atlanta,America/New_York,", "station is empty"),
        ("2022-05-02,508,,America/New_York,", "name is empty"),
        ("2022-05-02,508,Atlanta,,", "time_zone is empty"),
        (
            "05/02/2022,508,Atlanta,America/New_York,",
            'week_start "05/02/2022" is not a date in YYYY-MM-DD form (for example 2022-05-02)',
        ),
        (
            "2022-5-2,508,Atlanta,America/New_York,",
            'week_start "2022-5-2" is not a date in YYYY-MM-DD form (for example 2022-05-02)',
        ),
        ("2022-02-30,508,Atlanta,America/New_York,", "week_start 2022-02-30 is not a real date"),
        ("2022-05-02,508,Atlanta,America/New_York,2022-13-01", "go_live_date 2022-13-01 is not a real date"),
        (
            "2022-05-02,508,Atlanta,America/New_York,tomorrow",
            'go_live_date "tomorrow" is not a date in YYYY-MM-DD form (for example 2022-05-09)',
        ),
        ("2022-05-04,508,Atlanta,America/New_York,", "week_start 2022-05-04 is a Wednesday, not a Monday"),
        (
            "2022-05-02,508,Atlanta,America/New_York,2022-05-09",
            "go_live_date 2022-05-09 is outside the week of 2022-05-02 (2022-05-02 to 2022-05-08)",
        ),
        (
            "2022-05-02,508,Atlanta,America/New_York,2022-05-01",
            "go_live_date 2022-05-01 is outside the week of 2022-05-02 (2022-05-02 to 2022-05-08)",
        ),
        (
            "2022-05-02,508,Atlanta,Eastern Standard Time,",
            "time_zone 'Eastern Standard Time' is not an IANA time zone (like America/New_York)",
        ),
        (
            "2022-05-02,508,Atlanta,America/Atlantis,",
            "time_zone 'America/Atlantis' is not an IANA time zone (like America/New_York)",
        ),
        ("2022-05-02,508,Atlanta,America/New_York,,extra", "more values than the header has columns (5)"),
        ("2022-05-02,508", "name is empty"),
    ],
)
def test_each_bad_row_reason_is_reported_with_its_line_number(row, reason):
    text = HEADER + "2022-05-02,459,Honolulu,Pacific/Honolulu,\n" + row + "\n"
    assert f"line 3: {reason}" in errors_of(text)


def test_a_station_repeated_from_an_earlier_row_names_that_row():
    text = (
        HEADER
        + "2022-05-02,508,Atlanta,America/New_York,\n2022-05-09,459,Honolulu,Pacific/Honolulu,\n2022-05-09,508,Atlanta,America/New_York,\n"
    )
    assert errors_of(text) == ["line 4: station 508 already appeared on line 2"]


def test_repeated_station_is_caught_whatever_its_case():
    text = (
        HEADER + "2022-05-02,528A7,Syracuse,America/New_York,\n2022-05-09,528a7,Syracuse,America/New_York,\n"
    )
    assert errors_of(text) == ["line 3: station 528A7 already appeared on line 2"]


def test_all_errors_are_reported_together_in_line_order():
    text = (
        HEADER
        + "2022-05-03,508,Atlanta,America/New_York,\n"  # line 2
        + "2022-05-02,509,Augusta,America/New_York,\n"  # line 3: good
        + "2022-05-02,509,,Nowhere/Town,\n"  # line 4: three problems
        + "2022-05-09,644,Phoenix,America/Phoenix,2022-05-20\n"  # line 5
    )
    assert errors_of(text) == [
        "line 2: week_start 2022-05-03 is a Tuesday, not a Monday",
        "line 4: name is empty",
        "line 4: time_zone 'Nowhere/Town' is not an IANA time zone (like America/New_York)",
        "line 4: station 509 already appeared on line 3",
        "line 5: go_live_date 2022-05-20 is outside the week of 2022-05-09 (2022-05-09 to 2022-05-15)",
    ]


def test_error_message_lists_every_problem_one_per_line():
    with pytest.raises(PlanImportError) as caught:
        parse_rollout_csv(HEADER + ",508,Atlanta,America/New_York,\n2022-05-02,,X,UTC,\n")
    assert str(caught.value) == "line 2: week_start is empty\nline 3: station is empty"
    assert caught.value.errors == [LineError(2, "week_start is empty"), LineError(3, "station is empty")]
    assert isinstance(caught.value, ValueError)


def test_nothing_is_returned_when_one_row_of_many_is_bad():
    good = "".join(f"2022-05-02,{500 + i},Site {i},America/Chicago,\n" for i in range(20))
    with pytest.raises(PlanImportError) as caught:
        parse_rollout_csv(HEADER + good + "2022-05-02,999,Bad,Mars/Olympus,\n")
    assert [error.line for error in caught.value.errors] == [22]


def test_quoted_multi_line_field_keeps_the_next_rows_line_numbers_right():
    text = (
        HEADER
        + '2022-05-02,508,"Atlanta\nVAMC",America/New_York,\n2022-05-03,509,Augusta,America/New_York,\n'
    )
    assert errors_of(text) == ["line 4: week_start 2022-05-03 is a Tuesday, not a Monday"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "",
            "line 1: the header row is missing; expected week_start, station, name, time_zone, go_live_date",
        ),
        ("week_start,station,name\n", "line 1: missing column time_zone"),
        ("week_start,station,name,time_zone,site_id\n", "line 1: unknown column 'site_id'"),
        ("week_start,station,station,name,time_zone\n", "line 1: column station appears more than once"),
    ],
)
def test_header_problems_are_line_1(text, reason):
    assert any(error.startswith(reason.split(";")[0]) for error in errors_of(text))


def test_header_only_is_an_empty_plan():
    assert parse_rollout_csv(HEADER) == RolloutPlan()


def test_export_writes_the_public_header_and_leaves_out_pulled_sites():
    site = PlannedSite(Site("508", "Atlanta", "America/New_York"), date(2022, 5, 2), date(2022, 5, 3))
    pulled = PlannedSite(
        Site("509", "Augusta", "America/New_York"), date(2022, 5, 2), date(2022, 5, 2), pulled=True
    )
    text = export_rollout_csv(RolloutPlan((site, pulled)))
    assert (
        text
        == "week_start,station,name,time_zone,go_live_date\n2022-05-02,508,Atlanta,America/New_York,2022-05-03\n"
    )


def test_export_quotes_names_with_commas():
    site = PlannedSite(Site("402", "Togus, ME", "America/New_York"), date(2022, 8, 15), date(2022, 8, 15))
    text = export_rollout_csv(RolloutPlan((site,)))
    assert '"Togus, ME"' in text
    assert parse_rollout_csv(text).by_station()["402"].name == "Togus, ME"


ZONES = [
    "America/New_York",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Phoenix",
    "Asia/Manila",
    "Europe/London",
]
stations = st.from_regex(r"[1-9][0-9]{2}([A-Z0-9]{1,2})?", fullmatch=True)
names = (
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"), exclude_characters="\ufeff"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
weeks = st.integers(min_value=0, max_value=60).map(
    lambda n: date(2022, 1, 3).fromordinal(date(2022, 1, 3).toordinal() + 7 * n)
)


@st.composite
def plans(draw) -> RolloutPlan:
    chosen = draw(st.lists(stations, unique=True, max_size=12))
    entries = []
    for station in chosen:
        week = draw(weeks)
        entries.append(
            PlannedSite(
                Site(station, draw(names), draw(st.sampled_from(ZONES))),
                week,
                week.fromordinal(week.toordinal() + draw(st.integers(0, 6))),
            )
        )
    return RolloutPlan(tuple(entries))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(plans())
def test_export_then_import_gives_the_same_plan(plan):
    assert parse_rollout_csv(export_rollout_csv(plan)) == plan


@settings(derandomize=True, max_examples=50, deadline=None)
@given(plans())
def test_import_then_export_is_stable(plan):
    text = export_rollout_csv(plan)
    assert export_rollout_csv(parse_rollout_csv(text)) == text
    assert export_rollout_csv(parse_rollout_csv(text.encode("utf-8-sig"))) == text
