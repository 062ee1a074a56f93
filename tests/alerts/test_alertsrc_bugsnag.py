"""Bugsnag webhook notifications: the query token and recorded error payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alerts_support import MARKER, SECRETS, SOME_TIME, raw_body, recorded

from bot.alerts import AlertRejected, AlertUnauthorized, Ignored, bugsnag

TOKEN = SECRETS["bugsnag"]


def parse_with(*, trigger: dict[str, object] | None = None, **error_changes: object):
    body = recorded("bugsnag", "first_exception").body
    if trigger is not None:
        body["trigger"] = trigger
    body["error"].update(error_changes)
    return bugsnag.parse({}, raw_body(body))


# ---- recorded payloads ------------------------------------------------------------------------


def test_first_exception_is_a_triggered_alert_for_the_error():
    alert = recorded("bugsnag", "first_exception").parse()
    assert (alert.source, alert.group_key, alert.state, alert.level) == (
        "bugsnag",
        "56b9ca7f17025f8756f69054",
        "triggered",
        "error",
    )
    assert alert.title == "NoMethodError in auth/session#create"
    assert alert.delivery_id == "event:56b9ca7f17025f8756f69054"
    assert alert.links[0] == (
        "Bugsnag error",
        "https://app.bugsnag.com/my-company/my-test-project/errors/56b9ca7f17025f8756f69054"
        "?event_id=56b9ca7f17025f8756f69054",
    )
    assert (alert.project, alert.environment) == ("My Test Project", "development")
    assert alert.first_seen == datetime(2015, 11, 27, 15, 26, 11, tzinfo=UTC)


def test_the_error_message_stays_out_of_the_title_and_tags():
    alert = recorded("bugsnag", "first_exception").parse()
    assert "Unable to connect" not in alert.title
    assert not any("Unable" in tag or "5642494942656e7eac000004" in tag for tag in alert.tags)


def test_the_message_is_the_title_only_when_there_is_nothing_else():
    assert parse_with(exceptionClass=None, context="").title == "Unable to connect to database."
    assert parse_with(exceptionClass=None).title == "auth/session#create"
    assert (
        parse_with(exceptionClass=None, context=None, message=None).title
        == "Bugsnag error 56b9ca7f17025f8756f69054"
    )


def test_a_manual_fix_resolves_the_same_group():
    alert = recorded("bugsnag", "error_state_fixed").parse()
    assert (alert.group_key, alert.state) == ("56b9ca7f17025f8756f69054", "resolved")
    assert alert.delivery_id.startswith("body:")
    assert "state_change:fixed" in alert.tags


@pytest.mark.parametrize(
    ("trigger", "state"),
    [
        ({"type": "exception"}, "triggered"),
        ({"type": "powerTen", "message": "1000th exception"}, "triggered"),
        ({"type": "errorEventFrequency"}, "triggered"),
        ({"type": "reopened"}, "triggered"),
        ({"type": "errorStateManualChange", "stateChange": "snoozed"}, "acknowledged"),
        ({"type": "errorState-ManualChange", "stateChange": "ignored"}, "acknowledged"),
        ({"type": "errorStateManualChange", "stateChange": "reopened"}, "triggered"),
        ({"type": "errorStateManualChange", "stateChange": "unignored"}, "updated"),
    ],
)
def test_triggers_map_to_states(trigger, state):
    assert parse_with(trigger=trigger).state == state


def test_two_triggers_for_one_event_share_the_delivery_id():
    first = parse_with(trigger={"type": "firstException"})
    every = parse_with(trigger={"type": "exception"})
    assert first.delivery_id == every.delivery_id


@pytest.mark.parametrize(
    "trigger",
    ["projectSpiking", "release", "comment", "projectSamplingStarted", "projectApproachingRateLimit", "new"],
)
def test_triggers_without_an_error_group_are_ignored(trigger):
    body = {
        "project": {"name": "p"},
        "trigger": {"type": trigger, "message": MARKER},
        "comment": {"message": MARKER},
    }
    assert bugsnag.parse({}, raw_body(body)) == Ignored("bugsnag", "bugsnag trigger without an error")


@pytest.mark.parametrize(
    ("severity", "level"), [("error", "error"), ("warning", "warning"), ("info", "info")]
)
def test_severity_sets_the_level(severity, level):
    assert parse_with(severity=severity).level == level


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"trigger": {"type": "exception"}}, "field error is missing"),
        ({"trigger": {"type": "exception"}, "error": {"id": "1"}}, "field error.errorId is missing"),
        (
            {"trigger": {"type": "exception"}, "error": {"errorId": [MARKER]}},
            "field error.errorId has the wrong type",
        ),
        (
            {"trigger": {"type": "exception"}, "error": {"errorId": MARKER}},
            "field error.errorId is not a plain identifier",
        ),
        ({"trigger": {"type": "exception"}, "error": MARKER}, "field error has the wrong type"),
        ({"trigger": MARKER}, "field trigger has the wrong type"),
        ({"error": {"errorId": "1"}}, "field trigger is missing"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason_that_quotes_nothing(body, reason):
    with pytest.raises(AlertRejected) as rejected:
        bugsnag.parse({}, raw_body(body))
    assert rejected.value.reason == reason


# ---- the token ---------------------------------------------------------------------------------


def test_the_configured_token_in_the_query_authenticates():
    recorded("bugsnag", "first_exception").authenticate()


@pytest.mark.parametrize("token", ["wrong", TOKEN.upper(), TOKEN + " ", "ü"])
def test_a_wrong_token_is_refused(token):
    with pytest.raises(AlertUnauthorized, match="does not match"):
        bugsnag.authenticate({}, b"{}", {"token": token}, TOKEN, SOME_TIME)


def test_a_missing_token_is_refused_even_if_a_header_carries_it():
    with pytest.raises(AlertUnauthorized, match="missing token"):
        bugsnag.authenticate({"token": TOKEN, "X-Golive-Token": TOKEN}, b"{}", {}, TOKEN, SOME_TIME)


def test_an_unconfigured_token_refuses_everything():
    with pytest.raises(AlertUnauthorized, match="no Bugsnag webhook token"):
        bugsnag.authenticate({}, b"{}", {"token": ""}, "", SOME_TIME)
