"""Engineers' identifiers are checked where they enter (a `^` in a ServiceNow user name once broke
incident creation for good) and engineers are found by Entra id or email whatever the letter case."""

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedule.errors import InvalidScheduleValue, RosterImportError
from schedule.identity import (
    email_problem,
    github_login_problem,
    servicenow_user_problem,
    slack_user_id_problem,
)
from schedule.roster import MONDAY_TO_FRIDAY, DutyRoster, Engineer, export_roster_csv, parse_roster_csv
from schedule.roster_csv import ROSTER_COLUMNS
from schedule.sample import sample_roster

HEADER = ",".join(ROSTER_COLUMNS) + "\n"
GUID = "5b0c9a4e-1f7d-4c2a-9e3b-0a1d2c3e4f01"


def engineer_row(**values: str) -> str:
    row = {
        "kind": "engineer",
        "engineer": "jane",
        "name": "Jane Doe",
        "aad_object_id": GUID,
        "servicenow_user": "jane.doe",
        "email": "jane.doe@example.va.gov",
        "time_zone": "America/New_York",
        "work_start": "08:00",
        "work_end": "17:00",
        "work_days": "Mon-Fri",
        "production_access": "yes",
        **values,
    }
    return ",".join(f'"{row.get(column, "")}"' for column in ROSTER_COLUMNS) + "\n"


def errors_of(text: str) -> list[str]:
    with pytest.raises(RosterImportError) as caught:
        parse_roster_csv(text)
    return [str(error) for error in caught.value.errors]


def test_a_servicenow_user_name_with_a_caret_is_refused_on_its_line():
    assert errors_of(HEADER + engineer_row(servicenow_user="jane^doe")) == [
        "line 2: servicenow_user 'jane^doe' is not a ServiceNow user name: use letters, digits, "
        "'.', '_', '-' and '@' only (no '^', '=', spaces or commas)"
    ]


@pytest.mark.parametrize("user", ["jane^doe", "a=b", "jane doe", "jane,doe", "jané", "x" * 101])
def test_bad_servicenow_user_names(user):
    [error] = errors_of(HEADER + engineer_row(servicenow_user=user))
    assert error.startswith("line 2: servicenow_user")


@pytest.mark.parametrize("user", ["jane.doe", "j_doe-2", "jane.doe@va.gov", "x" * 100, "VHAISWDOEJ"])
def test_good_servicenow_user_names(user):
    assert servicenow_user_problem(user) is None
    assert (
        parse_roster_csv(HEADER + engineer_row(servicenow_user=user)).engineers["jane"].servicenow_user
        == user
    )


@pytest.mark.parametrize(
    "email", ["jane.doe", "jane doe@va.gov", "a@b", "a@@b.gov", "a@b.", "<a@b.gov>", "a,b@va.gov"]
)
def test_bad_emails(email):
    assert email_problem(email) is not None
    assert errors_of(HEADER + engineer_row(email=email)) == [
        f"line 2: email {email!r} is not an email address (like jane.doe@va.gov)"
    ]


def test_email_stays_optional():
    assert parse_roster_csv(HEADER + engineer_row(email="")).engineers["jane"].email == ""


def test_an_upper_case_entra_id_is_accepted_and_stored_lower_case():
    roster = parse_roster_csv(HEADER + engineer_row(aad_object_id=GUID.upper()))
    assert roster.engineers["jane"].aad_object_id == GUID
    assert GUID in export_roster_csv(roster) and GUID.upper() not in export_roster_csv(roster)


@pytest.mark.parametrize("guid", ["not-a-guid", GUID[:-1], "{" + GUID + "}", GUID.replace("-", "")])
def test_an_entra_id_must_be_a_guid(guid):
    assert errors_of(HEADER + engineer_row(aad_object_id=guid)) == [
        f"line 2: aad_object_id {guid!r} is not a GUID (the engineer's Entra object id)"
    ]


@pytest.mark.parametrize(
    ("login", "good"),
    [
        ("jane-doe", True),
        ("J4ne", True),
        ("a", True),
        ("a" * 39, True),
        ("a" * 40, False),
        ("-jane", False),
        ("jane-", False),
        ("ja--ne", False),
        ("jane_doe", False),
        ("jane.doe", False),
    ],
)
def test_github_login_rules(login, good):
    assert (github_login_problem(login) is None) is good
    text = HEADER + engineer_row(github_login=login)
    if good:
        assert parse_roster_csv(text).engineers["jane"].github_login == login
    else:
        assert errors_of(text)[0].startswith(f"line 2: github_login {login!r} is not a GitHub login")


@pytest.mark.parametrize(
    ("user_id", "good"),
    [
        ("U024BE7LH", True),
        ("W0123456789", True),
        ("U12345678", True),
        ("U1234567", False),
        ("U012345678901", False),
        ("u024be7lh", False),
        ("X024BE7LH", False),
        ("U024BE7L-", False),
    ],
)
def test_slack_user_id_rules(user_id, good):
    assert (slack_user_id_problem(user_id) is None) is good
    text = HEADER + engineer_row(slack_user_id=user_id)
    if good:
        assert parse_roster_csv(text).engineers["jane"].slack_user_id == user_id
    else:
        assert errors_of(text)[0].startswith(f"line 2: slack_user_id {user_id!r} is not a Slack user id")


def test_time_zone_hours_and_days_are_each_reported_with_the_identifiers_in_one_pass():
    row = engineer_row(
        servicenow_user="jane^doe", email="jane", time_zone="Eastern", work_start="9am", work_days="weekdays"
    )
    assert [error.split(":")[1].split()[0] for error in errors_of(HEADER + row)] == [
        "servicenow_user",
        "email",
        "time_zone",
        "work_start",
        "work_days",
    ]


def test_an_identifier_belongs_to_one_engineer_whatever_its_case():
    second = engineer_row(
        engineer="ann",
        name="Ann",
        aad_object_id="11111111-2222-4333-8444-555555555555",
        servicenow_user="ann.x",
        email="JANE.DOE@example.va.gov",
        slack_user_id="U024BE7LH",
    )
    first = engineer_row(slack_user_id="U024BE7LH")
    assert errors_of(HEADER + first + second) == [
        "line 3: email JANE.DOE@example.va.gov is already used on line 2",
        "line 3: slack_user_id U024BE7LH is already used on line 2",
    ]


def test_the_new_columns_are_optional_and_exported_back():
    roster = parse_roster_csv(HEADER + engineer_row(github_login="jane-doe", slack_user_id="U024BE7LH"))
    text = export_roster_csv(roster)
    assert text.splitlines()[0].endswith(",date,github_login,slack_user_id")
    assert parse_roster_csv(text) == roster
    assert roster.engineers["jane"].github_login == "jane-doe"
    old_header = "kind,engineer,name,aad_object_id,servicenow_user,time_zone,work_start,work_end,work_days,production_access\n"
    old_row = f"engineer,jane,Jane Doe,{GUID},jane.doe,America/New_York,08:00,17:00,Mon-Fri,yes\n"
    assert parse_roster_csv(old_header + old_row).engineers["jane"].slack_user_id == ""


def test_engineer_refuses_bad_identifiers_and_stores_the_entra_id_lower_case():
    def make(**values: str) -> Engineer:
        fields = {"aad_object_id": GUID.upper(), "servicenow_user": "jane.doe", **values}
        return Engineer(
            "jane", "Jane", time_zone="UTC", work_start=time(8), work_end=time(17),
            work_days=MONDAY_TO_FRIDAY, production_access=True, **fields,
        )  # fmt: skip

    assert make().aad_object_id == GUID
    for values in (
        {"servicenow_user": "jane^doe"},
        {"servicenow_user": ""},
        {"aad_object_id": "x"},
        {"email": "nope"},
        {"github_login": "-x"},
        {"slack_user_id": "u1"},
    ):
        with pytest.raises(InvalidScheduleValue):
            make(**values)


def test_engineers_are_found_by_entra_id_and_email_whatever_the_case():
    roster = sample_roster()
    jane = roster.engineers["jane"]
    assert roster.engineer_by_aad_id(jane.aad_object_id.upper()) == jane
    assert roster.engineer_by_aad_id(f"  {jane.aad_object_id}  ") == jane
    assert roster.by_aad_object_id(jane.aad_object_id.upper()) == jane  # the older name
    assert roster.engineer_by_email("JANE.DOE@EXAMPLE.VA.GOV") == jane
    assert roster.engineer_by_aad_id("00000000-0000-4000-8000-000000000000") is None
    assert roster.engineer_by_email("") is None and roster.engineer_by_aad_id("") is None


def test_two_engineers_with_the_same_email_cannot_make_a_roster():
    roster = sample_roster()
    jane, marcus = roster.engineers["jane"], roster.engineers["marcus"]
    with pytest.raises(InvalidScheduleValue, match="share the email"):
        DutyRoster.of([jane, Engineer(**{**vars(marcus), "email": jane.email.upper()})])


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_an_accepted_servicenow_user_name_can_never_break_an_encoded_query(text):
    if servicenow_user_problem(text) is None:
        assert not set(text) & set("^=, \t\n\r") and len(text) <= 100
