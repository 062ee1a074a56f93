"""Roster CSV import: every bad row reported with its line, nothing half-applied; export round-trips."""

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.errors import RosterImportError
from schedule.roster import DutyRoster, Engineer, RosterWeek, export_roster_csv, parse_roster_csv
from schedule.roster_csv import format_work_days, parse_work_days

HEADER = "kind,engineer,name,aad_object_id,servicenow_user,email,time_zone,work_start,work_end,work_days,production_access,week_start,date\n"
JANE = "engineer,jane,Jane Doe,5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01,jane.doe,,America/New_York,08:00,17:00,Mon-Fri,yes,,\n"
KAI = "engineer,kai,Kai Akana,a051e393-6ec2-4b7f-8d80-5f6c7b8d9e06,kai.akana,,Pacific/Honolulu,07:00,16:00,Mon-Fri,no,,\n"
ROSA = "engineer,rosa,Rosa Martinez,9f40d282-5db1-4a6e-9c7f-4e5b6a7c8d05,rosa.martinez,,America/Phoenix,09:00,18:00,Mon-Thu,yes,,\n"
WEEK_ROWS = "primary,jane,,,,,,,,,,2022-05-02,\nbackup,kai,,,,,,,,,,2022-05-02,\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(RosterImportError) as caught:
        parse_roster_csv(text)
    return [str(error) for error in caught.value.errors]


def test_a_good_roster_is_read_with_engineers_weeks_fallback_and_observer():
    text = (
        HEADER
        + JANE
        + KAI
        + ROSA
        + WEEK_ROWS
        + "fallback,rosa,,,,,,,,,,,2022-05-04\n"
        + "observer,kai,,,,,,,,,,2022-05-09,\n"
        + "primary,rosa,,,,,,,,,,2022-05-09,\nbackup,jane,,,,,,,,,,2022-05-09,\n"
    )
    roster = parse_roster_csv(text)
    assert roster.engineers["rosa"].work_days == frozenset({1, 2, 3, 4})
    assert roster.engineers["kai"].production_access is False
    assert roster.engineers["jane"].work_start == time(8)
    assert roster.week(date(2022, 5, 2)) == RosterWeek(
        date(2022, 5, 2), "jane", "kai", {date(2022, 5, 4): "rosa"}, ()
    )
    assert roster.week(date(2022, 5, 9)) == RosterWeek(date(2022, 5, 9), "rosa", "jane", {}, ("kai",))


def test_an_observer_cannot_also_be_primary_or_backup():
    text = HEADER + JANE + KAI + WEEK_ROWS + "observer,kai,,,,,,,,,,2022-05-02,\n"
    assert errors_of(text) == ["line 6: observer kai is already the primary or backup of week 2022-05-02"]


def test_only_kind_and_engineer_columns_are_required_and_bom_is_fine():
    text = (
        "\ufeffkind,engineer,name,aad_object_id,servicenow_user,time_zone,work_start,work_end,work_days,production_access,week_start\n"
        "engineer,jane,Jane Doe,5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01,jane.doe,America/New_York,08:00,17:00,Mon-Fri,yes,\n"
        "engineer,kai,Kai Akana,a051e393-6ec2-4b7f-8d80-5f6c7b8d9e06,kai.akana,Pacific/Honolulu,07:00,16:00,Mon-Fri,no,\n"
        "primary,kai,,,,,,,,,2022-05-02\nbackup,jane,,,,,,,,,2022-05-02\n"
    )
    assert parse_roster_csv(text.encode("utf-8")).week(date(2022, 5, 2)).primary == "kai"


def test_week_rows_may_come_before_the_engineer_rows():
    assert parse_roster_csv(HEADER + WEEK_ROWS + JANE + KAI).week(date(2022, 5, 2)).backup == "kai"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "engineer,ann,Ann,not-a-guid,ann.x,,America/Chicago,08:00,17:00,Mon-Fri,yes,,",
            "aad_object_id 'not-a-guid' is not a GUID",
        ),
        (
            "engineer,ann,,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,08:00,17:00,Mon-Fri,yes,,",
            "name is empty",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,,,America/Chicago,08:00,17:00,Mon-Fri,yes,,",
            "servicenow_user is empty",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,Central,08:00,17:00,Mon-Fri,yes,,",
            "time_zone 'Central' is not an IANA time zone",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,8am,17:00,Mon-Fri,yes,,",
            "work_start '8am' is not a time in HH:MM form",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,17:00,08:00,Mon-Fri,yes,,",
            "work_start 17:00 must be before work_end 08:00",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,08:00,17:00,Weekdays,yes,,",
            "work_days 'Weekdays' is not like Mon-Fri",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,08:00,17:00,Mon-Fri,maybe,,",
            "production_access 'maybe' is not yes or no",
        ),
        (
            "engineer,ann,Ann,11111111-2222-4333-8444-555555555555,ann.x,,America/Chicago,08:00,17:00,Mon-Fri,yes,2022-05-02,",
            "week_start must be empty on an engineer row",
        ),
        (
            "engineer,jane,Jane Again,11111111-2222-4333-8444-555555555555,j.x,,America/Chicago,08:00,17:00,Mon-Fri,yes,,",
            "engineer jane is already defined on line 2",
        ),
        (
            "engineer,ann,Ann,5B0C9A4E-1F7D-4C2A-9E3B-0A1D2C3E4F01,ann.x,,America/Chicago,08:00,17:00,Mon-Fri,yes,,",
            "aad_object_id 5B0C9A4E-1F7D-4C2A-9E3B-0A1D2C3E4F01 is already used on line 2",
        ),
        (
            "manager,jane,,,,,,,,,,2022-05-09,",
            "kind 'manager' is not one of engineer, primary, backup, fallback, observer",
        ),
        (",jane,,,,,,,,,,2022-05-09,", "kind is empty"),
        ("observer,,,,,,,,,,,2022-05-02,", "engineer is empty"),
        ("observer,ghost,,,,,,,,,,2022-05-02,", "engineer 'ghost' is not defined by an engineer row"),
        ("observer,jane,,,,,,,,,,,", "week_start is empty"),
        ("observer,jane,,,,,,,,,,2022-05-03,", "week_start 2022-05-03 is a Tuesday, not a Monday"),
        ("observer,jane,,,,,,,,,,2022-02-31,", "week_start 2022-02-31 is not a real date"),
        (
            "observer,jane,Jane,,,,,,,,,2022-05-09,",
            "name belongs on the engineer row of jane, not a observer row",
        ),
        ("primary,jane,,,,,,,,,,2022-05-02,", "week 2022-05-02 already has a primary (jane, line 4)"),
        ("fallback,jane,,,,,,,,,,,", "date is empty (the day the fallback covers)"),
        (
            "fallback,jane,,,,,,,,,,,05/04/2022",
            'date "05/04/2022" is not a date in YYYY-MM-DD form (for example 2022-05-04)',
        ),
        ("fallback,jane,,,,,,,,,,2022-05-09,2022-05-04", "date 2022-05-04 is outside the week of 2022-05-09"),
        (
            "fallback,jane,,,,,,,,,,,2022-05-04",
            "fallback jane on 2022-05-04 is already the primary of week 2022-05-02",
        ),
        ("primary,jane,,,,,,,,,,2022-05-02,,surplus", "more values than the header has columns (13)"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_number(row, reason):
    text = HEADER + JANE + KAI + WEEK_ROWS + row + "\n"  # the bad row is line 6
    assert any(error.startswith(f"line 6: {reason}") for error in errors_of(text)), errors_of(text)


def test_a_week_without_a_production_engineer_is_refused_on_the_row_completing_the_pair():
    kai2 = KAI.replace("kai,Kai Akana,a051e393", "lee,Lee Park,b051e393").replace("kai.akana", "lee.park")
    text = HEADER + KAI + kai2 + "primary,kai,,,,,,,,,,2022-05-02,\nbackup,lee,,,,,,,,,,2022-05-02,\n"
    assert errors_of(text) == [
        "line 5: week 2022-05-02: neither the primary (kai) nor the backup (lee) has production access; at least one of them must"
    ]


def test_a_week_needs_a_primary_and_a_backup():
    text = HEADER + JANE + KAI + "backup,kai,,,,,,,,,,2022-05-02,\nobserver,jane,,,,,,,,,,2022-05-09,\n"
    assert errors_of(text) == [
        "line 4: week 2022-05-02 has no primary",
        "line 5: week 2022-05-09 has no primary",
        "line 5: week 2022-05-09 has no backup",
    ]


def test_the_same_engineer_cannot_be_primary_and_backup():
    text = HEADER + JANE + "primary,jane,,,,,,,,,,2022-05-02,\nbackup,jane,,,,,,,,,,2022-05-02,\n"
    assert errors_of(text) == ["line 4: week 2022-05-02: jane cannot be both primary and backup"]


def test_all_errors_are_reported_together_and_nothing_is_returned():
    text = (
        HEADER
        + JANE.replace("08:00", "8")
        + KAI
        + WEEK_ROWS
        + "observer,ghost,,,,,,,,,,2022-05-02,\nfallback,jane,,,,,,,,,,,2022-05-05\n"
    )
    assert errors_of(text) == [
        "line 2: work_start '8' is not a time in HH:MM form (00:00 to 23:59)",
        "line 6: engineer 'ghost' is not defined by an engineer row",
        "line 7: fallback jane on 2022-05-05 is already the primary of week 2022-05-02",
    ]


def test_header_problems_are_line_1():
    assert errors_of("kind,engineer,colour\n") == [
        "line 1: unknown column 'colour' (expected kind, engineer, name, aad_object_id, servicenow_user, email, "
        "time_zone, work_start, work_end, work_days, production_access, week_start, date, github_login, "
        "slack_user_id)"
    ]
    assert errors_of("name,engineer\n") == ["line 1: missing column kind"]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Mon-Fri", {1, 2, 3, 4, 5}),
        ("mon,wed,FRI", {1, 3, 5}),
        ("Sun-Thu", {7, 1, 2, 3, 4}),
        ("Saturday Sunday", {6, 7}),
        ("Mon-Wed, Fri", {1, 2, 3, 5}),
    ],
)
def test_work_days_text(text, days):
    assert parse_work_days(text) == frozenset(days)
    assert parse_work_days(format_work_days(frozenset(days))) == frozenset(days)


def test_work_days_format_is_compact():
    assert format_work_days(frozenset({1, 2, 3, 4, 5})) == "Mon-Fri"
    assert format_work_days(frozenset({1, 3, 4, 5, 7})) == "Mon,Wed-Fri,Sun"


ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
]


@st.composite
def rosters(draw) -> DutyRoster:
    count = draw(st.integers(2, 5))
    engineers = []
    for index in range(count):
        start = draw(st.integers(0, 20))
        engineers.append(
            Engineer(
                key=f"e{index}",
                name=draw(
                    st.text(alphabet="abcdefgh ,'\"é", min_size=1, max_size=12).map(str.strip).filter(bool)
                ),
                aad_object_id=f"00000000-0000-4000-8000-{index:012d}",
                servicenow_user=f"user.{index}",
                time_zone=draw(st.sampled_from(ZONES)),
                work_start=time(start, draw(st.sampled_from([0, 30]))),
                work_end=time(draw(st.integers(start + 1, 23)), 0),
                work_days=draw(st.frozensets(st.integers(1, 7), min_size=1)),
                production_access=index == 0 or draw(st.booleans()),
                email=draw(st.sampled_from(["", f"e{index}@example.va.gov"])),
            )
        )
    weeks = []
    for offset in sorted(draw(st.sets(st.integers(0, 20), max_size=4))):
        monday = date.fromordinal(date(2022, 5, 2).toordinal() + 7 * offset)
        pair = draw(st.permutations(range(count)))
        primary, backup = (
            (0, pair[1] if pair[1] != 0 else pair[0]) if draw(st.booleans()) else (pair[0] or 1, 0)
        )
        others = [f"e{i}" for i in range(count) if i not in (primary, backup)]
        fallback = {}
        if others and draw(st.booleans()):
            fallback[date.fromordinal(monday.toordinal() + draw(st.integers(0, 6)))] = draw(
                st.sampled_from(others)
            )
        observers = tuple(draw(st.lists(st.sampled_from(others), unique=True, max_size=2))) if others else ()
        weeks.append(RosterWeek(monday, f"e{primary}", f"e{backup}", fallback, observers))
    return DutyRoster.of(engineers, weeks)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(rosters())
def test_export_then_import_gives_the_same_roster(roster):
    assert parse_roster_csv(export_roster_csv(roster)) == roster
