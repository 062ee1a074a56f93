"""Sentry integration-platform webhooks: signatures, timestamps and recorded payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alerts_support import MARKER, SECRETS, raw_body, recorded

from bot.alerts import AlertRejected, AlertUnauthorized, Ignored, sentry
from bot.alerts.delivery import hmac_sha256_hex

SECRET = SECRETS["sentry"]


def signed_headers(
    body: bytes, *, resource: str = "issue", at: datetime, secret: str = SECRET
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Request-ID": "7c4b5e0a2f0d4c4f9d3f2a1b0c9e8d7f",
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Timestamp": str(int(at.timestamp())),
        "Sentry-Hook-Signature": hmac_sha256_hex(secret, body),
    }


# ---- recorded payloads ------------------------------------------------------------------------


def test_issue_created_is_a_triggered_alert_for_the_issue():
    alert = recorded("sentry", "issue_created").parse()
    assert (alert.source, alert.group_key, alert.state, alert.level) == (
        "sentry",
        "1170820242",
        "triggered",
        "error",
    )
    assert alert.title == "ReferenceError: blooopy is not defined"
    assert alert.links == (("Sentry issue", "https://sentry.io/organizations/test-org/issues/1170820242/"),)
    assert alert.delivery_id == "issue:1170820242:created"
    assert alert.project == "front-end"
    assert alert.first_seen == datetime(2019, 8, 19, 20, 58, 37, 391000, tzinfo=UTC)
    assert alert.correlation_id == "sentry:1170820242"
    assert "short_id:FRONT-END-9" in alert.tags


def test_issue_resolved_resolves_the_same_group_and_has_no_link_without_web_url():
    alert = recorded("sentry", "issue_resolved").parse()
    assert (alert.group_key, alert.state, alert.level) == ("1170820242", "resolved", "error")
    assert alert.title == "ReferenceError: blooopy is not defined"
    assert alert.links == ()
    assert alert.delivery_id.startswith("body:")
    assert alert.last_seen == datetime(2019, 8, 19, 21, 12, 3, 116000, tzinfo=UTC)
    assert "resolution:now" in alert.tags


def test_event_alert_groups_by_the_events_issue_id_and_keeps_no_user_data():
    alert = recorded("sentry", "event_alert_triggered").parse()
    assert (alert.group_key, alert.state, alert.level) == ("1117540176", "triggered", "error")
    assert alert.title == "ReferenceError: heck is not defined"
    assert alert.delivery_id == "event:e4874d664c3540c1a32eab185f12c5ab"
    assert alert.links[0][1].startswith("https://sentry.io/organizations/test-org/issues/1117540176/events/")
    assert alert.project == "front-end"
    assert "rule:Very Important Alert Rule!" in alert.tags
    assert not any("ip:" in tag or "162." in tag or "url:" in tag for tag in alert.tags)


def test_metric_alert_critical_is_a_critical_triggered_alert_titled_by_the_rule():
    alert = recorded("sentry", "metric_alert_critical").parse()
    assert (alert.group_key, alert.state, alert.level) == ("metric_alert:4", "triggered", "critical")
    assert alert.title == "Too many errors"
    assert alert.links == (("Sentry alert", "https://sentry.io/organizations/baz/alerts/1/"),)
    assert alert.project == "bar"


def test_metric_alert_resolved_recovers_the_same_group():
    critical = recorded("sentry", "metric_alert_critical").parse()
    resolved = recorded("sentry", "metric_alert_resolved").parse()
    assert (resolved.group_key, resolved.state, resolved.level) == (critical.group_key, "recovered", "info")
    assert resolved.title == critical.title
    assert resolved.delivery_id != critical.delivery_id


def test_installation_webhooks_are_ignored():
    assert recorded("sentry", "installation_created").parse() == Ignored(
        "sentry", "sentry resource installation"
    )


@pytest.mark.parametrize("resource", ["comment", "seer", "something_new"])
def test_resources_we_do_not_track_are_ignored_without_reading_the_body(resource):
    outcome = sentry.parse({"Sentry-Hook-Resource": resource}, b"not json at all")
    assert isinstance(outcome, Ignored)
    assert resource not in outcome.reason or resource in ("comment", "seer")


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("created", "triggered"),
        ("unresolved", "triggered"),
        ("resolved", "resolved"),
        ("archived", "acknowledged"),
        ("ignored", "acknowledged"),
        ("assigned", "updated"),
        ("escalating", "updated"),
    ],
)
def test_issue_actions_map_to_states(action, state):
    body = recorded("sentry", "issue_resolved").body | {"action": action}
    assert sentry.parse({"Sentry-Hook-Resource": "issue"}, raw_body(body)).state == state


def test_error_resource_reads_the_issue_id_from_data_error():
    event = recorded("sentry", "event_alert_triggered").body["data"]["event"]
    body = {"action": "created", "data": {"error": event}, "installation": {"uuid": "x"}}
    alert = sentry.parse({"sentry-hook-resource": "error"}, raw_body(body))
    assert (alert.group_key, alert.state) == ("1117540176", "triggered")


def test_fatal_level_is_critical():
    body = recorded("sentry", "issue_created").body
    body["data"]["issue"]["level"] = "fatal"
    assert sentry.parse({"Sentry-Hook-Resource": "issue"}, raw_body(body)).level == "critical"


def test_missing_resource_header_is_rejected():
    with pytest.raises(AlertRejected, match="missing Sentry-Hook-Resource"):
        sentry.parse({}, recorded("sentry", "issue_created").raw)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda body: body["data"]["issue"].pop("id"), "field data.issue.id is missing"),
        (
            lambda body: body["data"]["issue"].update(id={"n": MARKER}),
            "field data.issue.id has the wrong type",
        ),
        (
            lambda body: body["data"]["issue"].update(id=MARKER),
            "field data.issue.id is not a plain identifier",
        ),
        (
            lambda body: body["data"]["issue"].update(title=[MARKER]),
            "field data.issue.title has the wrong type",
        ),
        (lambda body: body.update(data=MARKER), "field data has the wrong type"),
        (lambda body: body.update(action=7), "field action has the wrong type"),
    ],
)
def test_wrong_fields_are_rejected_with_a_reason_that_quotes_nothing(mutate, reason):
    body = recorded("sentry", "issue_created").body
    mutate(body)
    with pytest.raises(AlertRejected) as rejected:
        sentry.parse({"Sentry-Hook-Resource": "issue"}, raw_body(body))
    assert rejected.value.reason == reason


def test_a_title_is_cut_to_200_characters():
    body = recorded("sentry", "issue_created").body
    body["data"]["issue"]["title"] = "x" * 5000
    title = sentry.parse({"Sentry-Hook-Resource": "issue"}, raw_body(body)).title
    assert len(title) == 200 and title.endswith("…")


def test_http_links_are_dropped():
    body = recorded("sentry", "issue_created").body
    body["data"]["issue"]["web_url"] = "http://sentry.example/issues/1/"
    assert sentry.parse({"Sentry-Hook-Resource": "issue"}, raw_body(body)).links == ()


# ---- signatures and timestamps ----------------------------------------------------------------


def test_a_recorded_delivery_with_a_good_signature_authenticates():
    recorded("sentry", "event_alert_triggered").authenticate()


def test_the_signature_is_checked_on_the_exact_bytes_so_re_encoding_fails():
    delivery = recorded("sentry", "issue_created")
    pretty = json.dumps(delivery.body, indent=2).encode()
    with pytest.raises(AlertUnauthorized, match="does not match"):
        delivery.authenticate(raw=pretty)


def test_a_signature_made_with_another_secret_is_refused():
    delivery = recorded("sentry", "issue_created")
    headers = signed_headers(delivery.raw, at=delivery.now, secret="someone-else")
    with pytest.raises(AlertUnauthorized, match="does not match"):
        delivery.authenticate(headers=headers)


def test_an_uppercase_hex_signature_is_accepted():
    delivery = recorded("sentry", "issue_created")
    headers = dict(delivery.headers)
    headers["Sentry-Hook-Signature"] = headers["Sentry-Hook-Signature"].upper()
    delivery.authenticate(headers=headers)


@pytest.mark.parametrize("name", ["Sentry-Hook-Signature", "Sentry-Hook-Timestamp"])
def test_a_missing_signature_or_timestamp_is_refused(name):
    delivery = recorded("sentry", "issue_created")
    headers = {key: value for key, value in delivery.headers.items() if key != name}
    with pytest.raises(AlertUnauthorized, match=f"missing {name}"):
        delivery.authenticate(headers=headers)


@pytest.mark.parametrize("signature", ["", "not-hex", "é" * 64, "0" * 64])
def test_a_malformed_signature_is_refused(signature):
    delivery = recorded("sentry", "issue_created")
    with pytest.raises(AlertUnauthorized):
        delivery.authenticate(headers=delivery.headers | {"Sentry-Hook-Signature": signature})


@pytest.mark.parametrize("offset", [timedelta(minutes=-5, seconds=-1), timedelta(minutes=5, seconds=1)])
def test_a_timestamp_more_than_5_minutes_from_now_is_stale(offset):
    body = recorded("sentry", "issue_created").raw
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    headers = signed_headers(body, at=now + offset)
    with pytest.raises(AlertUnauthorized, match="more than 5 minutes"):
        sentry.authenticate(headers, body, {}, SECRET, now)


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(0), timedelta(minutes=5)])
def test_a_timestamp_within_5_minutes_is_fresh(offset):
    body = recorded("sentry", "issue_created").raw
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    sentry.authenticate(signed_headers(body, at=now + offset), body, {}, SECRET, now)


@pytest.mark.parametrize("stamp", ["soon", "-5", "1.5e9", "99999999999999999999", "١٥٦٦٢٤٨٣١٨"])
def test_a_timestamp_that_is_not_epoch_seconds_is_refused(stamp):
    delivery = recorded("sentry", "issue_created")
    with pytest.raises(AlertUnauthorized, match="not epoch seconds"):
        delivery.authenticate(headers=delivery.headers | {"Sentry-Hook-Timestamp": stamp})


def test_headers_are_matched_whatever_their_case():
    delivery = recorded("sentry", "issue_created")
    lowered = {key.lower(): value for key, value in delivery.headers.items()}
    delivery.authenticate(headers=lowered)
    assert sentry.parse(lowered, delivery.raw).group_key == "1170820242"


def test_an_unconfigured_secret_refuses_everything():
    delivery = recorded("sentry", "issue_created")
    with pytest.raises(AlertUnauthorized, match="no Sentry client secret"):
        sentry.authenticate(delivery.headers, delivery.raw, {}, "", delivery.now)


def test_a_timestamp_far_in_the_future_is_stale_not_a_crash():
    delivery = recorded("sentry", "issue_created")
    with pytest.raises(AlertUnauthorized, match="more than 5 minutes"):
        delivery.authenticate(headers=delivery.headers | {"Sentry-Hook-Timestamp": "999999999999"})
