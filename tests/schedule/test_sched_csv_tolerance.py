"""Rollout and roster CSV files as spreadsheets save them: BOM, CRLF, spaces, empty rows, US dates."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.csvio import export_rollout_csv, iso_date_hint, parse_rollout_csv
from schedule.errors import PlanImportError, RosterImportError
from schedule.roster import export_roster_csv, parse_roster_csv
from schedule.sample import sample_plan, sample_roster


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(PlanImportError) as caught:
        parse_rollout_csv(text)
    return [str(error) for error in caught.value.errors]


def as_a_spreadsheet_saves_it(text: str) -> bytes:
    """The same CSV as Excel's "CSV UTF-8" writes it after some editing: a byte-order mark, CRLF,
    spaces around values, trailing empty header cells, rows of only commas and empty rows at the end."""
    lines = text.rstrip("\n").split("\n")
    header, rows = lines[0] + ",,", lines[1:]
    padded = [",".join(f" {cell} " if cell else cell for cell in row.split(",")) + ",," for row in rows]
    return ("\ufeff" + "\r\n".join([header, *padded, ",,,,,,", "", " ", ""])).encode("utf-8")


def test_a_spreadsheet_saved_rollout_file_reads_the_same_as_the_plain_one():
    text = (
        "week_start,station,name,time_zone,go_live_date\n2022-05-02,508,Atlanta,America/New_York,2022-05-04\n"
    )
    assert parse_rollout_csv(as_a_spreadsheet_saves_it(text)) == parse_rollout_csv(text)


def test_empty_rows_and_rows_of_commas_count_for_line_numbers():
    data = (
        b"week_start,station,name,time_zone\r\n"
        b",,,\r\n"  # line 2
        b"\r\n"  # line 3
        b"2022-05-03,508,Atlanta,America/New_York\r\n"  # line 4
        b",,,\r\n,,,\r\n"
    )
    assert errors_of(data) == ["line 4: week_start 2022-05-03 is a Tuesday, not a Monday"]


def test_a_us_date_is_refused_with_the_iso_form_as_a_hint():
    text = "week_start,station,name,time_zone\n5/9/2022,508,Atlanta,America/New_York\n"
    assert errors_of(text) == [
        'line 2: week_start "5/9/2022" is not a date in YYYY-MM-DD form (for example 2022-05-09)'
    ]


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("5/9/2022", "2022-05-09"),
        ("05/09/22", "2022-05-09"),
        ("2022-5-9", "2022-05-09"),
        ("2022/05/09", "2022-05-09"),
        ("2022-05-09 00:00:00", "2022-05-09"),
        ("2022-05-09T00:00", "2022-05-09"),
        ("9.5.2022", "2022-05-09"),
        ("20220509", "2022-05-09"),
        ("13/5/2022", "2022-05-13"),  # only the day-first reading is a date
        ("2/30/2022", None),
        ("next Monday", None),
    ],
)
def test_date_hints(value, hint):
    assert iso_date_hint(value) == hint


def test_every_bad_row_is_reported_at_once_with_its_line():
    text = (
        "\ufeffweek_start,station,name,time_zone,go_live_date\r\n"
        "2022-5-9,508,Atlanta,America/New_York,\r\n"
        "\r\n"
        "2022-05-09, 509 ,Augusta,Eastern,5/11/2022\r\n"
        "2022-05-09,510,Tampa,America/New_York,2022-05-11\r\n"
        ",,,,\r\n"
    )
    assert errors_of(text) == [
        'line 2: week_start "2022-5-9" is not a date in YYYY-MM-DD form (for example 2022-05-09)',
        'line 4: go_live_date "5/11/2022" is not a date in YYYY-MM-DD form (for example 2022-05-11)',
        "line 4: time_zone 'Eastern' is not an IANA time zone (like America/New_York)",
    ]


def test_a_roster_file_saved_by_a_spreadsheet_reads_the_same():
    text = export_roster_csv(sample_roster())
    assert parse_roster_csv(as_a_spreadsheet_saves_it(text)) == sample_roster()


def test_roster_dates_get_the_same_hint():
    text = export_roster_csv(sample_roster()).replace(
        "primary,jane,,,,,,,,,,2022-05-02,", "primary,jane,,,,,,,,,,5/2/2022,", 1
    )
    with pytest.raises(RosterImportError) as caught:
        parse_roster_csv(text)
    assert 'week_start "5/2/2022" is not a date in YYYY-MM-DD form (for example 2022-05-02)' in str(
        caught.value
    )


def test_a_header_with_spaces_and_capitals_is_read():
    text = " Week_Start , Station ,NAME, time_zone \r\n2022-05-02,508,Atlanta,America/New_York\r\n"
    assert parse_rollout_csv(text).get("508").week_start == date(2022, 5, 2)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.sets(st.sampled_from([entry.station for entry in sample_plan().entries]), max_size=15))
def test_any_part_of_the_sample_plan_survives_a_spreadsheet_round_trip(stations):
    plan = sample_plan()
    part = type(plan)(tuple(entry for entry in plan.entries if entry.station in stations))
    assert parse_rollout_csv(as_a_spreadsheet_saves_it(export_rollout_csv(part))) == part
