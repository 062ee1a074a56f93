"""Alerts are worked like inquiries (on the fakes): Acknowledge is the first response, answered in
the post's thread as "being handled"; route moves the incident; an unacknowledged alert escalates to
the person on duty after 5 minutes of working time, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertflow_support import AlertBridge, alert_bridge
from sqlalchemy import select
from testkit.bridge import ROSTER, STAFF, person_of

from bot import views
from bot.storage import tables
from schedule.first_response import escalation_target, first_response_clock_start
from schedule.roster import duty_at
from servicenow.model import STATE_IN_PROGRESS

ENGINEER = person_of(next(iter(ROSTER.engineers.values())))


async def opened(alerts: AlertBridge, group: str = "PQ1") -> str:
    await alerts.apply("pagerduty", group=group)
    await alerts.drain()
    return f"pagerduty:{group}"


async def test_acknowledge_is_the_first_response_and_says_being_handled(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    outcome = await alerts.bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: key}, ENGINEER)
    await alerts.drain()

    assert outcome.status == 200 and outcome.view.acknowledged_text.startswith(ENGINEER.name)
    row = await alerts.row(key)
    assert row.acknowledged_by == ENGINEER.name and row.acknowledged_at == alerts.bridge.clock.now()
    [post] = alerts.alert_posts()
    [reply] = alerts.chat.in_thread(alerts_thread(post))
    assert "being handled" in (reply.message.text or "")
    assert post.current.view.acknowledged_text is not None
    incident = alerts.tracker.incidents[row.sys_id]
    assert incident.state == STATE_IN_PROGRESS
    assert any(ENGINEER.name in note and "being handled" in note for note in alerts.tracker.notes(row.sys_id))
    async with alerts.bridge.runtime.store.read() as connection:
        actions = (await connection.execute(select(tables.audit_log.c.action))).scalars().all()
    assert "incident.acknowledge" in actions


async def test_acknowledging_twice_answers_once(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    for card in ("c1", "c2"):
        outcome = await alerts.bridge.press(
            views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: key}, ENGINEER, card_message_id=card
        )
        assert outcome.status == 200
    await alerts.drain()
    [post] = alerts.alert_posts()
    assert len(alerts.chat.in_thread(alerts_thread(post))) == 1


async def test_route_moves_the_incident(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    data = {views.DATA_ALERT: key, views.DATA_GROUP: "Scheduling Support"}
    outcome = await alerts.bridge.press(views.VERB_ROUTE, data, ENGINEER)
    await alerts.drain()

    assert outcome.status == 200
    row = await alerts.row(key)
    assert alerts.tracker.incidents[row.sys_id].assignment_group == "Scheduling Support"
    assert row.re_routes == 1
    assert alerts.alert_posts()[0].current.view.group == "Scheduling Support"
    assert any("Routed to Scheduling Support" in note for note in alerts.tracker.notes(row.sys_id))


async def test_route_to_an_unknown_group_is_400(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    outcome = await alerts.bridge.press(
        views.VERB_ROUTE, {views.DATA_ALERT: key, "group": "Nobody"}, ENGINEER
    )
    assert outcome.status == 400


async def test_only_engineers_work_alerts(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    outcome = await alerts.bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: key}, STAFF)
    assert outcome.status == 403
    assert (await alerts.row(key)).acknowledged_at is None


async def test_an_unknown_alert_or_verb_is_4xx(alerts: AlertBridge) -> None:
    key = await opened(alerts)
    unknown = await alerts.bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: "sentry:nope"}, ENGINEER)
    assert unknown.status == 404
    verb = await alerts.bridge.press(views.VERB_RESOLVE, {views.DATA_ALERT: key}, ENGINEER)
    assert verb.status == 400


async def test_unacknowledged_alert_escalates_after_five_minutes_in_working_hours(
    alerts: AlertBridge,
) -> None:
    key = await opened(alerts)
    clock = alerts.bridge.clock
    posted = clock.now()
    duty = duty_at(ROSTER, posted)
    assert first_response_clock_start(duty, posted) == posted  # someone is working now
    clock.advance(minutes=4)
    assert await alerts.bridge.runtime.alerts.tick() == 0
    clock.advance(minutes=1, seconds=1)
    assert await alerts.bridge.runtime.alerts.tick() == 1
    assert await alerts.bridge.runtime.alerts.tick() == 0  # once
    await alerts.drain()

    target = escalation_target(duty, clock.now())
    assert target is not None
    [post] = alerts.alert_posts()
    [reply] = alerts.chat.in_thread(alerts_thread(post))
    assert f"<at>{target.name}</at>" in (reply.message.text or "")
    assert [m.aad_object_id for m in reply.message.mentions] == [target.aad_object_id]
    assert (await alerts.row(key)).escalated_to == target.name


async def test_an_acknowledged_or_recovered_alert_does_not_escalate(alerts: AlertBridge) -> None:
    key = await opened(alerts, "PA")
    await alerts.bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_ALERT: key}, ENGINEER)
    await alerts.apply("datadog", group="recovers")
    await alerts.apply("datadog", group="recovers", state="recovered")
    await alerts.drain()
    alerts.bridge.clock.advance(minutes=30)
    assert await alerts.bridge.runtime.alerts.tick() == 0


async def test_an_alert_at_night_escalates_only_when_someone_starts_work(tmp_path: Path) -> None:
    night = _instant_without_anyone_working(datetime(2022, 5, 4, 0, 0, tzinfo=UTC))
    async with alert_bridge(tmp_path, now=night) as alerts:
        await opened(alerts)
        start = first_response_clock_start(duty_at(ROSTER, night), night)
        assert start > night + timedelta(minutes=30)
        alerts.bridge.clock.set(start + timedelta(minutes=4))
        assert await alerts.bridge.runtime.alerts.tick() == 0
        alerts.bridge.clock.set(start + timedelta(minutes=5, seconds=1))
        assert await alerts.bridge.runtime.alerts.tick() == 1


def _instant_without_anyone_working(start: datetime) -> datetime:
    at = start
    while escalation_target(duty_at(ROSTER, at), at) is not None or first_response_clock_start(
        duty_at(ROSTER, at), at
    ) < at + timedelta(hours=1):
        at += timedelta(minutes=30)
    return at


def alerts_thread(post: object) -> object:
    from bot.ports import ThreadRef

    return ThreadRef("teams", post.channel_id, post.id)  # type: ignore[attr-defined]
