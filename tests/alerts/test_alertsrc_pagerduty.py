"""PagerDuty webhooks v3: signatures (with rotation) and recorded incident events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alerts_support import MARKER, SECRETS, SOME_TIME, raw_body, recorded

from bot.alerts import AlertRejected, AlertUnauthorized, Ignored, pagerduty
from bot.alerts.delivery import hmac_sha256_hex

SECRET = SECRETS["pagerduty"]


def with_signature(value: str) -> dict[str, str]:
    return recorded("pagerduty", "incident_triggered").headers | {"X-PagerDuty-Signature": value}


def event(**changes: object) -> bytes:
    body = recorded("pagerduty", "incident_triggered").body
    body["event"].update(changes)
    return raw_body(body)


# ---- recorded payloads ------------------------------------------------------------------------


def test_incident_triggered_is_a_critical_triggered_alert_for_the_incident():
    alert = recorded("pagerduty", "incident_triggered").parse()
    assert (alert.source, alert.group_key, alert.state, alert.level) == (
        "pagerduty",
        "PGR0VU2",
        "triggered",
        "critical",
    )
    assert alert.title == "A little bump in the road"
    assert alert.delivery_id == "01DEN8Z2E3QJ6MXUTW2K6O9M5B"
    assert alert.links == (("PagerDuty incident", "https://acme.pagerduty.com/incidents/PGR0VU2"),)
    assert alert.service == "API Service"
    assert alert.first_seen == datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)
    assert alert.last_seen == datetime(2020, 4, 9, 15, 16, 27, 423000, tzinfo=UTC)
    assert {"urgency:high", "priority:P1", "incident_number:2", "team:Engineering"} <= set(alert.tags)


@pytest.mark.parametrize(
    ("name", "state"), [("incident_acknowledged", "acknowledged"), ("incident_resolved", "resolved")]
)
def test_later_incident_events_change_the_state_of_the_same_group(name, state):
    triggered = recorded("pagerduty", "incident_triggered").parse()
    alert = recorded("pagerduty", name).parse()
    assert (alert.group_key, alert.state, alert.title) == (triggered.group_key, state, triggered.title)
    assert alert.delivery_id != triggered.delivery_id


@pytest.mark.parametrize(
    ("event_type", "state"),
    [
        ("incident.reopened", "triggered"),
        ("incident.unacknowledged", "triggered"),
        ("incident.escalated", "updated"),
        ("incident.reassigned", "updated"),
        ("incident.delegated", "updated"),
        ("incident.priority_updated", "updated"),
    ],
)
def test_other_incident_events_map_to_states(event_type, state):
    assert pagerduty.parse({}, event(event_type=event_type)).state == state


@pytest.mark.parametrize(
    "event_type",
    [
        "incident.annotated",
        "incident.responder.added",
        "incident.status_update_published",
        "service.updated",
        "x.y",
    ],
)
def test_event_types_we_do_not_track_are_ignored(event_type):
    note = {"incident": {"id": "PGR0VU2"}, "content": MARKER, "type": "incident_note"}
    outcome = pagerduty.parse({}, event(event_type=event_type, data=note))
    assert outcome == Ignored("pagerduty", "pagerduty event type not tracked")


@pytest.mark.parametrize(("urgency", "level"), [("high", "critical"), ("low", "warning"), (None, "error")])
def test_urgency_sets_the_level(urgency, level):
    body = recorded("pagerduty", "incident_triggered").body
    body["event"]["data"].update(urgency=urgency, priority=None)
    assert pagerduty.parse({}, raw_body(body)).level == level


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"data": None}, "field event.data has the wrong type"),
        ({"data": {"title": MARKER}}, "field event.data.id is missing"),
        ({"data": {"id": MARKER}}, "field event.data.id is not a plain identifier"),
        ({"event_type": 3}, "field event.event_type has the wrong type"),
        ({"data": {"id": "P1", "number": MARKER}}, "field event.data.number has the wrong type"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason_that_quotes_nothing(changes, reason):
    with pytest.raises(AlertRejected) as rejected:
        pagerduty.parse({}, event(**changes))
    assert rejected.value.reason == reason


def test_a_body_without_event_is_rejected():
    with pytest.raises(AlertRejected, match="field event is missing"):
        pagerduty.parse({}, b'{"messages": []}')


# ---- signatures ---------------------------------------------------------------------------------


def test_a_recorded_delivery_with_a_good_signature_authenticates():
    recorded("pagerduty", "incident_triggered").authenticate()


def test_a_rotation_header_with_the_old_secret_first_authenticates():
    delivery = recorded("pagerduty", "incident_acknowledged")
    assert delivery.headers["X-PagerDuty-Signature"].count("v1=") == 2
    delivery.authenticate()


def test_any_of_several_signatures_may_match_in_any_position():
    delivery = recorded("pagerduty", "incident_triggered")
    good = "v1=" + hmac_sha256_hex(SECRET, delivery.raw)
    other = "v1=" + hmac_sha256_hex("other", delivery.raw)
    for header in (f"{good},{other}", f"{other},{good}", f"{other}, {good}", f"v0=abc,{good}"):
        delivery.authenticate(headers=with_signature(header))


def test_no_matching_signature_among_several_is_refused():
    delivery = recorded("pagerduty", "incident_triggered")
    others = ",".join("v1=" + hmac_sha256_hex(f"other-{n}", delivery.raw) for n in range(3))
    with pytest.raises(AlertUnauthorized, match="does not match"):
        delivery.authenticate(headers=with_signature(others))


def test_a_signature_over_other_bytes_is_refused():
    delivery = recorded("pagerduty", "incident_triggered")
    with pytest.raises(AlertUnauthorized, match="does not match"):
        delivery.authenticate(raw=delivery.raw + b" ")


@pytest.mark.parametrize("header", ["", "sha256=abc", "v2=" + "0" * 64])
def test_a_header_without_a_v1_signature_is_refused(header):
    delivery = recorded("pagerduty", "incident_triggered")
    with pytest.raises(AlertUnauthorized):
        delivery.authenticate(headers=with_signature(header))


def test_a_missing_signature_is_refused():
    delivery = recorded("pagerduty", "incident_triggered")
    headers = {key: value for key, value in delivery.headers.items() if key != "X-PagerDuty-Signature"}
    with pytest.raises(AlertUnauthorized, match="missing X-PagerDuty-Signature"):
        delivery.authenticate(headers=headers)


def test_an_old_delivery_is_not_stale_because_pagerduty_retries_for_hours():
    delivery = recorded("pagerduty", "incident_triggered")  # occurred in 2020
    pagerduty.authenticate(delivery.headers, delivery.raw, {}, SECRET, SOME_TIME)


def test_an_unconfigured_secret_refuses_everything():
    delivery = recorded("pagerduty", "incident_triggered")
    with pytest.raises(AlertUnauthorized, match="no PagerDuty webhook secret"):
        pagerduty.authenticate(delivery.headers, delivery.raw, {}, "", SOME_TIME)
