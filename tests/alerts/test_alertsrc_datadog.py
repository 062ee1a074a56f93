"""Datadog monitor webhooks: the payload template, the token header and template-filled bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alerts_support import MARKER, SECRETS, SOME_TIME, raw_body, recorded

from bot.alerts import AlertRejected, AlertUnauthorized, datadog

TOKEN = SECRETS["datadog"]
REQUIRED_KEYS = [
    "id",
    "alert_id",
    "alert_cycle_key",
    "aggreg_key",
    "alert_transition",
    "alert_type",
    "event_title",
    "link",
    "date",
    "priority",
    "tags",
]


def parse(**changes: object):
    body = recorded("datadog", "monitor_triggered").body | changes
    return datadog.parse({}, raw_body(body))


# ---- the template -----------------------------------------------------------------------------


def test_the_template_is_json_with_every_required_key_holding_its_variable():
    template = json.loads(datadog.datadog_template())
    for key in REQUIRED_KEYS:
        assert template[key] == "$" + key.upper()


def test_the_template_quotes_every_variable_so_every_value_arrives_as_a_string():
    template = json.loads(datadog.datadog_template())
    assert all(isinstance(value, str) and value.startswith("$") for value in template.values())
    assert {"alert_status", "alert_priority", "hostname", "org_id"} <= template.keys()


def test_the_recorded_bodies_are_the_template_filled_in():
    template = json.loads(datadog.datadog_template())
    for name in ("monitor_triggered", "monitor_recovered", "test_notification"):
        assert list(recorded("datadog", name).body) == list(template)


# ---- recorded payloads ------------------------------------------------------------------------


def test_a_triggered_monitor_is_a_triggered_alert_grouped_by_its_cycle_key():
    alert = recorded("datadog", "monitor_triggered").parse()
    assert (alert.source, alert.group_key, alert.state, alert.level) == (
        "datadog",
        "7543262786510923834",
        "triggered",
        "error",
    )
    assert alert.title == "CPU load is high on web-01"
    assert alert.delivery_id == "7543262786510923834"
    assert alert.links == (
        ("Datadog event", "https://app.datadoghq.com/event/jump_to?event_id=7543262786510923834"),
    )
    assert alert.first_seen == datetime(2023, 11, 14, 22, 20, tzinfo=UTC)
    assert (alert.environment, alert.service) == ("prod", "checkout-api")
    assert {"transition:Triggered", "priority:P2", "host:web-01", "team:checkout"} <= set(alert.tags)


def test_the_recovery_recovers_the_same_group_with_its_own_delivery_id():
    triggered = recorded("datadog", "monitor_triggered").parse()
    recovered = recorded("datadog", "monitor_recovered").parse()
    assert (recovered.group_key, recovered.state, recovered.level) == (
        triggered.group_key,
        "recovered",
        "info",
    )
    assert recovered.title == triggered.title
    assert recovered.delivery_id != triggered.delivery_id


def test_unfilled_variables_count_as_absent_so_a_test_notification_groups_by_monitor():
    alert = recorded("datadog", "test_notification").parse()
    assert alert.group_key == "monitor:98765432"
    assert alert.state == "triggered"  # no transition: read from the "[Triggered]" title prefix
    assert alert.first_seen == datetime(2023, 11, 14, 22, 45, tzinfo=UTC)  # $DATE in seconds
    assert not any(tag.startswith("priority:") for tag in alert.tags)


@pytest.mark.parametrize("empty", ["", "$ALERT_CYCLE_KEY", "  "])
def test_an_empty_or_literal_cycle_key_falls_back_to_the_alert_id(empty):
    assert parse(alert_cycle_key=empty).group_key == "monitor:98765432"


@pytest.mark.parametrize("empty", ["", "$ALERT_ID"])
def test_no_cycle_key_and_no_alert_id_is_rejected(empty):
    with pytest.raises(AlertRejected, match="neither alert_cycle_key nor alert_id"):
        parse(alert_cycle_key="$ALERT_CYCLE_KEY", alert_id=empty)


@pytest.mark.parametrize(
    ("transition", "state", "level"),
    [
        ("Triggered", "triggered", "error"),
        ("Re-Triggered", "triggered", "error"),
        ("Renotify", "triggered", "error"),
        ("Warn", "triggered", "warning"),
        ("Re-Warn", "triggered", "warning"),
        ("No Data", "triggered", "warning"),
        ("Re-No Data", "triggered", "warning"),
        ("Recovered", "recovered", "info"),
        ("Something New", "updated", "error"),
    ],
)
def test_transitions_map_to_states_and_levels(transition, state, level):
    alert = parse(alert_transition=transition)
    assert (alert.state, alert.level) == (state, level)


def test_p1_monitors_are_critical():
    assert parse(alert_priority="P1").level == "critical"


@pytest.mark.parametrize(
    ("title", "transition", "clean"),
    [
        ("[Recovered on {host:a}] Disk full", "Recovered", "Disk full"),
        ("[P1] [Triggered] Disk full", "Triggered", "Disk full"),
        ("[Warn on {env:prod}] Disk [sda] full", "Warn", "Disk [sda] full"),
        ("Disk full", "triggered", "Disk full"),
    ],
)
def test_the_transition_prefix_is_read_when_no_transition_is_filled_and_kept_out_of_the_title(
    title, transition, clean
):
    alert = parse(alert_transition="$ALERT_TRANSITION", event_title=title)
    assert alert.title == clean
    assert f"transition:{transition}" in alert.tags


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("1700000400000", datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        ("1700000400", datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        (1700000400000, datetime(2023, 11, 14, 22, 20, tzinfo=UTC)),
        ("$DATE", None),
        ("yesterday", None),
        ("99999999999999999", None),
    ],
)
def test_date_is_epoch_milliseconds_or_seconds(date, expected):
    assert parse(date=date, last_updated="").first_seen == expected


def test_an_id_that_is_not_plain_falls_back_to_a_digest_of_the_body():
    assert parse(id="$ID").delivery_id.startswith("body:")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"alert_cycle_key": {"k": MARKER}}, "field alert_cycle_key has the wrong type"),
        ({"alert_cycle_key": MARKER}, "field alert_cycle_key is not a plain identifier"),
        ({"tags": [MARKER]}, "field tags has the wrong type"),
        ({"date": 1.5}, "field date has the wrong type"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason_that_quotes_nothing(changes, reason):
    with pytest.raises(AlertRejected) as rejected:
        parse(**changes)
    assert rejected.value.reason == reason


# ---- the token ---------------------------------------------------------------------------------


def test_the_configured_token_authenticates():
    recorded("datadog", "monitor_triggered").authenticate()


def test_the_token_header_is_found_whatever_its_case():
    delivery = recorded("datadog", "monitor_triggered")
    datadog.authenticate({"x-golive-token": TOKEN}, delivery.raw, {}, TOKEN, SOME_TIME)


@pytest.mark.parametrize("token", ["wrong", TOKEN + "x", TOKEN[:-1], "é"])
def test_a_wrong_token_is_refused(token):
    with pytest.raises(AlertUnauthorized, match="does not match"):
        datadog.authenticate({"X-Golive-Token": token}, b"{}", {}, TOKEN, SOME_TIME)


def test_a_missing_token_is_refused():
    with pytest.raises(AlertUnauthorized, match="missing X-Golive-Token"):
        datadog.authenticate({"Content-Type": "application/json"}, b"{}", {"token": TOKEN}, TOKEN, SOME_TIME)


def test_an_unconfigured_token_refuses_everything():
    with pytest.raises(AlertUnauthorized, match="no Datadog webhook token"):
        datadog.authenticate({"X-Golive-Token": ""}, b"{}", {}, "", SOME_TIME)
