"""Grouping on the fakes: one incident and one post per alert group, counted, noted at most every
10 minutes, recovered in place, and never resolved by the bridge."""

from __future__ import annotations

from pathlib import Path

from alertflow_support import AlertBridge, alert_bridge

from servicenow.model import STATE_NEW


async def test_fifty_repeats_of_one_group_make_one_incident_and_one_post(alerts: AlertBridge) -> None:
    for _ in range(50):
        assert await alerts.apply("bugsnag", group="err-1") in {"new", "repeat"}
    await alerts.drain()

    row = await alerts.row("bugsnag:err-1")
    assert row.count == 50
    assert alerts.tracker.creates == 1
    [post] = alerts.alert_posts()
    assert post.current.view.count == 50
    assert post.current.view.number == row.number


async def test_repeats_arriving_between_syncs_update_the_same_post(alerts: AlertBridge) -> None:
    for round_ in range(5):
        for _ in range(10):
            await alerts.apply("sentry", group="4242")
        await alerts.drain()
        [post] = alerts.alert_posts()
        assert post.current.view.count == 10 * (round_ + 1)
    assert alerts.tracker.creates == 1


async def test_repeats_add_at_most_one_work_note_per_ten_minutes(alerts: AlertBridge) -> None:
    await alerts.apply("datadog", group="cycle-1")
    await alerts.drain()
    row = await alerts.row("datadog:cycle-1")
    assert alerts.tracker.notes(row.sys_id) == []  # the description holds the first alert

    for _ in range(49):
        await alerts.apply("datadog", group="cycle-1")
        await alerts.drain()
        alerts.bridge.clock.advance(seconds=5)  # 49 alerts over about 4 minutes
    assert len(alerts.tracker.notes(row.sys_id)) == 1

    # Ten minutes after that note, with no new alert, the leader's tick notes what was left.
    alerts.bridge.clock.advance(minutes=10)
    await alerts.bridge.runtime.alerts.tick()
    await alerts.drain()
    notes = alerts.tracker.notes(row.sys_id)
    assert len(notes) == 2
    assert "50 in all" in notes[-1]

    await alerts.bridge.runtime.alerts.tick()
    await alerts.drain()
    assert len(alerts.tracker.notes(row.sys_id)) == 2  # nothing new: no note


async def test_recovery_adds_a_work_note_at_once_and_marks_the_post_recovered(alerts: AlertBridge) -> None:
    await alerts.apply("datadog", group="cycle-2")
    await alerts.apply("datadog", group="cycle-2")
    await alerts.drain()
    row = await alerts.row("datadog:cycle-2")
    before = len(alerts.tracker.notes(row.sys_id))

    await alerts.apply("datadog", group="cycle-2", state="recovered")
    await alerts.drain()

    notes = alerts.tracker.notes(row.sys_id)
    assert len(notes) == before + 1 and "recovered" in notes[-1]
    [post] = alerts.alert_posts()
    assert post.current.view.recovered
    assert alerts.tracker.incidents[row.sys_id].state == STATE_NEW  # stays for an engineer


async def test_a_group_that_triggers_again_after_recovery_is_noted_again_when_it_recovers(
    alerts: AlertBridge,
) -> None:
    await alerts.apply("sentry", group="metric_alert:9")
    await alerts.drain()
    await alerts.apply("sentry", group="metric_alert:9", state="recovered")
    await alerts.drain()
    alerts.bridge.clock.advance(minutes=11)
    await alerts.apply("sentry", group="metric_alert:9")
    await alerts.drain()
    [post] = alerts.alert_posts()
    assert not post.current.view.recovered
    await alerts.apply("sentry", group="metric_alert:9", state="recovered")
    await alerts.drain()

    row = await alerts.row("sentry:metric_alert:9")
    assert sum("recovered" in note for note in alerts.tracker.notes(row.sys_id)) == 2
    assert alerts.tracker.creates == 1
    assert alerts.alert_posts()[0].current.view.recovered


async def test_alert_channel_is_created_once_by_the_bot(alerts: AlertBridge) -> None:
    for group in ("a1", "a2", "a3"):
        await alerts.apply("bugsnag", group=group)
    await alerts.drain()
    assert [c.name for c in alerts.bridge.directory.channels.values()] == ["APM Alerts"]
    assert len(alerts.alert_posts()) == 3


async def test_alert_incident_goes_to_the_alert_group_setting(tmp_path: Path) -> None:
    async with alert_bridge(
        tmp_path, alert_group="Scheduling Support", teams_alert_channel="Alerts"
    ) as alerts:
        await alerts.apply("pagerduty", group="PX1")
        await alerts.drain()
        row = await alerts.row("pagerduty:PX1")
        assert alerts.tracker.incidents[row.sys_id].assignment_group == "Scheduling Support"
        assert alerts.tracker.drafts[row.sys_id].correlation_id == "pagerduty:PX1"
        assert [c.name for c in alerts.bridge.directory.channels.values()] == ["Alerts"]


async def test_a_routing_rule_may_send_an_alert_elsewhere(tmp_path: Path) -> None:
    async with alert_bridge(tmp_path, alert_group="Scheduling Support") as alerts:
        await alerts.apply("sentry", group="77", title="vets-api timeout on appointments")
        await alerts.drain()
        row = await alerts.row("sentry:77")
        assert alerts.tracker.incidents[row.sys_id].assignment_group == "eCheck-in Vet Facing Apps"


async def test_servicenow_down_then_up_still_makes_one_incident(alerts: AlertBridge) -> None:
    from bot.ports import Transient

    alerts.tracker.failures.fail_next(Transient("ServiceNow unavailable"), times=1)
    await alerts.apply("datadog", group="cycle-3")
    await alerts.bridge.runtime.processor.drain()
    await alerts.bridge.runtime.worker.drain_once()  # fails transiently, retried later
    assert alerts.tracker.creates == 0
    for _ in range(5):
        await alerts.apply("datadog", group="cycle-3")
    await _run_retries(alerts)
    row = await alerts.row("datadog:cycle-3")
    assert alerts.tracker.creates == 1 and row.count == 6
    [post] = alerts.alert_posts()
    assert post.current.view.count == 6


async def _run_retries(alerts: AlertBridge) -> None:
    """Make every job due now and drain (the worker's backoff is on the wall clock)."""
    from sqlalchemy import update

    from bot.bridge.outbox import utcnow
    from bot.storage import tables

    for _ in range(5):
        async with alerts.bridge.runtime.store.write() as connection:
            await connection.execute(
                update(tables.outbox)
                .where(tables.outbox.c.done_at.is_(None))
                .values(next_attempt_at=utcnow())
            )
        if not await alerts.drain():
            return
