"""Every recorded vendor payload through its HTTP endpoint becomes the right incident and post."""

from __future__ import annotations

import time

import pytest
from alertflow_support import AlertBridge, recorded

from servicenow.model import STATE_NEW


def now_stamped(headers: dict[str, str]) -> dict[str, str]:
    """Sentry's timestamp is not signed: a recorded delivery sent now carries the current time."""
    if "Sentry-Hook-Timestamp" in headers:
        return {**headers, "Sentry-Hook-Timestamp": str(int(time.time()))}
    return headers


async def deliver(alerts: AlertBridge, source: str, name: str) -> int:
    headers, body, query = recorded(source, name)
    response = await alerts.send(source, now_stamped(headers), body, query)  # type: ignore[arg-type]
    return response.status


@pytest.mark.parametrize(
    ("source", "name", "correlation_id", "state", "title"),
    [
        ("sentry", "issue_created", "sentry:1170820242", "triggered", "ReferenceError: blooopy"),
        ("sentry", "issue_resolved", "sentry:1170820242", "resolved", "ReferenceError: blooopy"),
        ("sentry", "event_alert_triggered", "sentry:1117540176", "triggered", "ReferenceError: heck"),
        ("sentry", "metric_alert_critical", "sentry:metric_alert:4", "triggered", "Too many errors"),
        ("sentry", "metric_alert_resolved", "sentry:metric_alert:4", "recovered", "Too many errors"),
        ("datadog", "monitor_triggered", "datadog:7543262786510923834", "triggered", "CPU load is high"),
        ("datadog", "monitor_recovered", "datadog:7543262786510923834", "recovered", "CPU load is high"),
        ("datadog", "test_notification", "datadog:monitor:98765432", "triggered", "CPU load is high"),
        ("pagerduty", "incident_triggered", "pagerduty:PGR0VU2", "triggered", "A little bump"),
        ("pagerduty", "incident_acknowledged", "pagerduty:PGR0VU2", "acknowledged", "A little bump"),
        ("pagerduty", "incident_resolved", "pagerduty:PGR0VU2", "resolved", "A little bump"),
        ("bugsnag", "first_exception", "bugsnag:56b9ca7f17025f8756f69054", "triggered", "NoMethodError"),
        ("bugsnag", "error_state_fixed", "bugsnag:56b9ca7f17025f8756f69054", "resolved", "NoMethodError"),
    ],
)
async def test_recorded_payload_opens_one_incident_and_one_post(
    alerts: AlertBridge, source: str, name: str, correlation_id: str, state: str, title: str | None
) -> None:
    assert await deliver(alerts, source, name) == 202
    await alerts.drain()

    row = await alerts.row(correlation_id)
    assert row.state == state
    assert title in row.title
    incident = await alerts.tracker.find_by_correlation_id(correlation_id)
    assert incident is not None and incident.number == row.number
    assert incident.assignment_group == "eCheck-in Vet Facing Apps"
    assert incident.state == STATE_NEW
    posts = alerts.alert_posts()
    assert len(posts) == 1
    view = posts[0].current.view
    assert view.alert_key == correlation_id and view.number == incident.number
    assert view.recovered == (state in {"recovered", "resolved"})


async def test_redelivered_recorded_payload_counts_once(alerts: AlertBridge) -> None:
    for _ in range(3):
        assert await deliver(alerts, "pagerduty", "incident_triggered") == 202
    await alerts.drain()

    row = await alerts.row("pagerduty:PGR0VU2")
    assert row.count == 1
    assert alerts.tracker.creates == 1


async def test_a_group_through_its_life_keeps_one_incident_and_one_post(alerts: AlertBridge) -> None:
    for name in ("incident_triggered", "incident_acknowledged", "incident_resolved"):
        assert await deliver(alerts, "pagerduty", name) == 202
        await alerts.drain()

    row = await alerts.row("pagerduty:PGR0VU2")
    assert (row.count, row.state) == (3, "resolved")
    assert alerts.tracker.creates == 1
    posts = alerts.alert_posts()
    assert len(posts) == 1
    assert posts[0].current.view.recovered
    notes = alerts.tracker.notes(row.sys_id)
    assert any("acknowledged" in note for note in notes)
    assert any("resolved" in note for note in notes)
    # The incident stays for an engineer.
    assert alerts.tracker.incidents[row.sys_id].state == STATE_NEW


async def test_sentry_issue_then_resolution_marks_the_post_recovered(alerts: AlertBridge) -> None:
    assert await deliver(alerts, "sentry", "issue_created") == 202
    await alerts.drain()
    assert await deliver(alerts, "sentry", "issue_resolved") == 202
    await alerts.drain()

    row = await alerts.row("sentry:1170820242")
    assert row.state == "resolved" and row.count == 2
    [post] = alerts.alert_posts()
    assert post.current.view.recovered and post.current.view.count == 2
    assert any("resolved" in note for note in alerts.tracker.notes(row.sys_id))


async def test_sentry_installation_is_answered_and_stores_nothing(alerts: AlertBridge) -> None:
    assert await deliver(alerts, "sentry", "installation_created") == 200
    await alerts.drain()
    assert await alerts.rows() == []
    assert alerts.tracker.creates == 0
