"""Sample deliveries: signed, parsed to the group and state asked for, shaped like recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import key_paths, recorded

from bot.alerts import RECEIVERS, Alert, AlertUnauthorized
from bot.alerts.samples import DEFAULT_GROUPS, SAMPLE_STATES, sample_payload

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "sample-secret"

CASES = (
    [("sentry", "1170820242", state) for state in SAMPLE_STATES["sentry issue"]]
    + [("sentry", "metric_alert:42", state) for state in SAMPLE_STATES["sentry metric_alert"]]
    + [("datadog", "7543262786510923834", state) for state in SAMPLE_STATES["datadog"]]
    + [("datadog", "monitor:55", state) for state in SAMPLE_STATES["datadog"]]
    + [("pagerduty", "PABC123", state) for state in SAMPLE_STATES["pagerduty"]]
    + [("bugsnag", "5f0c1a2b3c4d5e6f7a8b9c0f", state) for state in SAMPLE_STATES["bugsnag"]]
)
# The recorded payload each kind of sample is modelled on: (source, group kind, state) -> fixture.
MODELS = {
    ("sentry", "issue", "triggered"): "event_alert_triggered",
    ("sentry", "issue", "resolved"): "issue_resolved",
    ("sentry", "issue", "acknowledged"): "issue_resolved",
    ("sentry", "metric", "triggered"): "metric_alert_critical",
    ("sentry", "metric", "recovered"): "metric_alert_resolved",
    ("datadog", "any", "triggered"): "monitor_triggered",
    ("datadog", "any", "recovered"): "monitor_recovered",
    ("pagerduty", "any", "triggered"): "incident_triggered",
    ("pagerduty", "any", "acknowledged"): "incident_acknowledged",
    ("pagerduty", "any", "resolved"): "incident_resolved",
    ("pagerduty", "any", "updated"): "incident_triggered",
    ("bugsnag", "any", "triggered"): "first_exception",
    ("bugsnag", "any", "resolved"): "error_state_fixed",
    ("bugsnag", "any", "acknowledged"): "error_state_fixed",
}


def deliver(source, headers, body, query, *, secret=SECRET, now=NOW) -> Alert:
    RECEIVERS[source].authenticate(headers, body, query, secret, now)
    alert = RECEIVERS[source].parse(headers, body)
    assert isinstance(alert, Alert)
    return alert


@pytest.mark.parametrize(("source", "group", "state"), CASES)
def test_a_sample_authenticates_and_parses_to_the_group_and_state_asked_for(source, group, state):
    alert = deliver(source, *sample_payload(source, group=group, state=state, secret=SECRET, now=NOW))
    assert (alert.source, alert.group_key, alert.state) == (source, group, state)
    assert alert.links and alert.title


@pytest.mark.parametrize(("source", "group", "state"), CASES)
def test_a_sample_uses_only_keys_its_recorded_payload_has(source, group, state):
    _, body, _ = sample_payload(source, group=group, state=state, secret=SECRET, now=NOW)
    kind = "any" if source != "sentry" else "metric" if group.startswith("metric_alert:") else "issue"
    model = recorded(source, MODELS[(source, kind, state)]).body
    assert key_paths(json.loads(body)) <= key_paths(model)


@pytest.mark.parametrize("source", sorted(DEFAULT_GROUPS))
def test_a_sample_signed_with_another_secret_is_refused(source):
    headers, body, query = sample_payload(source, secret=SECRET, now=NOW)
    with pytest.raises(AlertUnauthorized):
        RECEIVERS[source].authenticate(headers, body, query, "the-configured-secret", NOW)


@pytest.mark.parametrize("source", sorted(DEFAULT_GROUPS))
def test_every_call_is_a_new_delivery_unless_the_delivery_is_fixed(source):
    first = deliver(source, *sample_payload(source, secret=SECRET, now=NOW))
    second = deliver(source, *sample_payload(source, secret=SECRET, now=NOW))
    again = [
        deliver(source, *sample_payload(source, secret=SECRET, now=NOW, delivery="d-1")) for _ in range(2)
    ]
    assert first.group_key == second.group_key == DEFAULT_GROUPS[source]
    assert first.delivery_id != second.delivery_id
    assert again[0].delivery_id == again[1].delivery_id


def test_a_sentry_sample_is_stamped_with_the_time_given():
    headers, body, query = sample_payload("sentry", secret=SECRET, now=NOW)
    with pytest.raises(AlertUnauthorized, match="more than 5 minutes"):
        RECEIVERS["sentry"].authenticate(headers, body, query, SECRET, NOW + timedelta(minutes=6))


def test_a_bugsnag_sample_carries_its_token_in_the_query():
    _, _, query = sample_payload("bugsnag", secret=SECRET, now=NOW)
    assert query == {"token": SECRET}


def test_a_custom_title_is_used():
    for source in ("sentry", "datadog", "pagerduty", "bugsnag"):
        alert = deliver(source, *sample_payload(source, secret=SECRET, now=NOW, title="Storm 17"))
        assert alert.title.startswith("Storm 17")


@pytest.mark.parametrize(
    ("source", "group", "state"),
    [
        ("sentry", "1", "recovered"),
        ("sentry", "metric_alert:1", "resolved"),
        ("datadog", "1", "acknowledged"),
    ],
)
def test_a_state_a_kind_of_sample_cannot_show_is_a_value_error(source, group, state):
    with pytest.raises(ValueError, match="samples support states"):
        sample_payload(source, group=group, state=state, secret=SECRET, now=NOW)


@pytest.mark.parametrize("group", ["", "has space", "x" * 121])
def test_a_group_that_is_not_a_plain_id_is_a_value_error(group):
    with pytest.raises(ValueError, match="plain identifier"):
        sample_payload("pagerduty", group=group, secret=SECRET, now=NOW)


def test_a_storm_of_distinct_groups_gives_distinct_alert_groups():
    groups = {
        deliver(
            "pagerduty", *sample_payload("pagerduty", group=f"PSTORM{n}", secret=SECRET, now=NOW)
        ).group_key
        for n in range(200)
    }
    assert len(groups) == 200
