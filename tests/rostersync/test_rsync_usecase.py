"""Roster sync (``bot.bridge.roster_sync``) on the fakes: on-call entries become the roster weeks they
cover, all or nothing, audited, with a status the dashboard and ``/metrics`` read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from rsync_support import MONDAY, SCHEDULES, on_call
from sqlalchemy import select
from testkit.bridge import fake_bridge

from bot.bridge import records
from bot.bridge.roster_sync import (
    ROSTER_SYNC_DOCUMENT,
    SyncWindow,
    SyncWindowError,
    default_window,
    plan_sync,
    window_between,
)
from bot.ports import OnCallEntry, Permanent, Transient
from bot.reporting.dashboard import load_dashboard, render_dashboard
from bot.storage import tables
from schedule.roster import DutyRoster, export_roster_csv, roster_problems, swap_day
from schedule.sample import sample_roster

PRIMARY, BACKUP = SCHEDULES
ROSTER = sample_roster()
EMAIL = {key: engineer.email for key, engineer in ROSTER.engineers.items()}
WEEKS = [MONDAY + timedelta(weeks=n) for n in range(4)]  # the default window at 2022-05-03


def rota(pairs: list[tuple[str, str]]) -> list[OnCallEntry]:
    """Weekly on-calls from 2022-05-02: (primary key, backup key) per week."""
    entries = []
    for start, (primary, backup) in zip(WEEKS, pairs, strict=False):
        entries += [on_call(EMAIL[primary], PRIMARY, start), on_call(EMAIL[backup], BACKUP, start)]
    return entries


SAMPLE_PAIRS = [
    (w.primary, w.backup) for w in ROSTER.weeks[:4]
]  # jane/marcus, marcus/priya, tom/jane, priya/rosa


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        yield bridge


async def stored(bridge) -> DutyRoster:
    async with bridge.runtime.store.read() as connection:
        roster = await records.load_roster(bridge.runtime.store, connection)
    assert roster is not None
    return roster


async def audits(bridge, action: str = "roster.sync") -> list:
    async with bridge.runtime.store.read() as connection:
        rows = await connection.execute(select(tables.audit_log).where(tables.audit_log.c.action == action))
        return rows.all()


async def status(bridge) -> dict | None:
    async with bridge.runtime.store.read() as connection:
        return await bridge.runtime.store.get_document(connection, ROSTER_SYNC_DOCUMENT)


async def metric(bridge, name: str) -> float | None:
    metrics = bridge.runtime.metrics
    await metrics.refresh(bridge.runtime.store, bridge.clock.now())
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return None


async def test_each_week_gets_the_pair_on_call_for_it_and_the_change_is_audited(bridge):
    bridge.roster_source.entries = rota([SAMPLE_PAIRS[0], ("tom", "rosa"), *SAMPLE_PAIRS[2:]])
    result = await bridge.runtime.roster_sync.run(actor="tester")
    assert result.ok and result.applied
    assert result.changes == (
        "week 2022-05-09: primary Marcus Lee -> Tom Nguyen, backup Priya Shah -> Rosa Martinez",
    )
    week = (await stored(bridge)).week(date(2022, 5, 9))
    assert (week.primary, week.backup) == ("tom", "rosa")
    [audit] = await audits(bridge)
    assert audit.actor == "tester" and "PPRIMRY, PBACKUP" in audit.detail and "Tom Nguyen" in audit.detail
    document = await status(bridge)
    assert document["source"] == "pagerduty" and document["failing"] is False
    assert document["last_success_at"] == bridge.clock.now().isoformat()
    assert await metric(bridge, "golive_roster_sync_failing") == 0


async def test_a_sync_that_matches_the_roster_changes_nothing_and_is_not_audited(bridge):
    bridge.roster_source.entries = rota(SAMPLE_PAIRS)
    before = export_roster_csv(await stored(bridge))
    result = await bridge.runtime.roster_sync.run()
    assert result.ok and not result.applied and result.changes == ()
    assert export_roster_csv(await stored(bridge)) == before
    assert await audits(bridge) == []
    assert (await status(bridge))["failing"] is False


async def test_an_unknown_email_is_named_and_nothing_is_applied(bridge):
    entries = rota([SAMPLE_PAIRS[0], ("tom", "rosa"), *SAMPLE_PAIRS[2:]])
    entries.append(on_call("earline@graham.example", BACKUP, WEEKS[2], days=2, name="Earline Greenholt"))
    bridge.roster_source.entries = entries
    before = export_roster_csv(await stored(bridge))
    result = await bridge.runtime.roster_sync.run()
    assert not result.ok and not result.applied
    assert result.problems == (
        "Earline Greenholt <earline@graham.example> is on call (backup schedule PBACKUP) "
        "but no roster engineer has that email",
    )
    assert export_roster_csv(await stored(bridge)) == before
    assert await audits(bridge) == []
    document = await status(bridge)
    assert document["failing"] is True and "Earline Greenholt" in document["last_failure"]
    assert "last_success_at" not in document
    assert await metric(bridge, "golive_roster_sync_failing") == 1
    assert (
        await metric(bridge, "golive_roster_sync_last_failure_timestamp_seconds")
        == bridge.clock.now().timestamp()
    )
    lines = result.lines()
    assert lines[0].endswith("nothing was changed.") and "Earline Greenholt" in lines[1]


async def test_emails_match_whatever_their_letter_case(bridge):
    entries = rota([("tom", "rosa")])
    bridge.roster_source.entries = [replace(e, email=e.email.upper()) for e in entries]
    result = await bridge.runtime.roster_sync.run(since=MONDAY, until=MONDAY + timedelta(days=7))
    assert result.ok and result.changes[0].startswith("week 2022-05-02: primary Jane Doe -> Tom Nguyen")


async def test_a_synced_week_keeps_its_swaps_fallback_and_observers_but_not_a_new_holder(bridge):
    roster = swap_day(await stored(bridge), date(2022, 5, 4), bridge.clock.now())
    async with bridge.runtime.store.write() as connection:
        await records.save_roster_csv(
            bridge.runtime.store, connection, export_roster_csv(roster), bridge.clock.now()
        )
    week = roster.week(date(2022, 5, 2))
    assert week.observers == ("kai",) and dict(week.fallback) == {date(2022, 5, 6): "rosa"}
    # Week 1: the backup is now Tom (the observer Kai stays); week 2: Kai, the observer, becomes backup.
    bridge.roster_source.entries = rota([("jane", "tom"), ("marcus", "kai")])
    result = await bridge.runtime.roster_sync.run(since=MONDAY, until=MONDAY + timedelta(days=14))
    assert result.ok
    synced = await stored(bridge)
    first = synced.week(date(2022, 5, 2))
    assert (first.primary, first.backup) == ("jane", "tom")
    assert first.swaps == frozenset({date(2022, 5, 4)})
    assert dict(first.fallback) == {date(2022, 5, 6): "rosa"} and first.observers == ("kai",)
    second = synced.week(date(2022, 5, 9))
    assert (second.backup, second.observers) == ("kai", ())
    assert result.changes[1].endswith("; observer kai dropped")


async def test_dry_run_lists_the_changes_and_changes_nothing(bridge):
    bridge.roster_source.entries = rota([("tom", "rosa")])
    before = export_roster_csv(await stored(bridge))
    result = await bridge.runtime.roster_sync.run(dry_run=True)
    assert result.ok and not result.applied and len(result.changes) == 1
    assert "(dry run, nothing was changed)" in result.lines()[0]
    assert "1 week(s) would change:" in result.lines()
    assert export_roster_csv(await stored(bridge)) == before
    assert await audits(bridge) == [] and await status(bridge) is None


async def test_a_failing_rota_changes_nothing_shows_as_failing_then_recovers(bridge):
    bridge.roster_source.entries = rota([("tom", "rosa")])
    bridge.roster_source.failures.fail_next(Permanent("GOLIVE_PAGERDUTY_TOKEN was refused (401)"))
    before = export_roster_csv(await stored(bridge))
    result = await bridge.runtime.roster_sync.run()
    assert result.error == "GOLIVE_PAGERDUTY_TOKEN was refused (401)"
    assert export_roster_csv(await stored(bridge)) == before
    document = await status(bridge)
    assert (
        document["failing"] is True and document["last_failure"] == "GOLIVE_PAGERDUTY_TOKEN was refused (401)"
    )
    data = await load_dashboard(bridge.runtime.store, bridge.clock.now())
    assert data.roster_source.source == "PagerDuty" and data.roster_source.failing
    html = render_dashboard(data)
    assert 'id="roster-sync-failing"' in html and "GOLIVE_PAGERDUTY_TOKEN was refused (401)" in html
    bridge.roster_source.failures.fail_next(Transient("PagerDuty is unavailable (503)"))
    await bridge.runtime.roster_sync.tick()  # the hourly tick never raises
    assert (await status(bridge))["last_failure"] == "PagerDuty is unavailable (503)"
    bridge.clock.advance(hours=1)
    await bridge.runtime.roster_sync.tick()
    document = await status(bridge)
    assert document["failing"] is False and document["last_success_at"] == bridge.clock.now().isoformat()
    data = await load_dashboard(bridge.runtime.store, bridge.clock.now())
    assert data.roster_source.last_sync_at == bridge.clock.now() and not data.roster_source.failing
    html = render_dashboard(data)
    assert "Roster from PagerDuty (schedules PPRIMRY, PBACKUP), last synced 2022-05-03 16:00 UTC" in html
    assert 'id="roster-sync-failing"' not in html
    assert (await stored(bridge)).week(date(2022, 5, 2)).primary == "tom"


async def test_without_a_sync_the_dashboard_says_the_roster_comes_from_csv(bridge):
    data = await load_dashboard(bridge.runtime.store, bridge.clock.now())
    assert data.roster_source.source == "CSV import"
    assert "Roster from CSV import." in render_dashboard(data)
    assert await metric(bridge, "golive_roster_sync_failing") is None


async def test_a_week_with_nobody_on_call_in_a_schedule_is_left_as_it_is(bridge):
    entries = rota([("tom", "rosa"), ("rosa", "tom")])
    bridge.roster_source.entries = [
        e for e in entries if not (e.schedule_id == BACKUP and e.start == WEEKS[1])
    ]
    result = await bridge.runtime.roster_sync.run(since=MONDAY, until=MONDAY + timedelta(days=14))
    assert result.ok and len(result.changes) == 1
    assert result.notes == (
        "week 2022-05-09: nobody is on call in the backup schedule PBACKUP; left as it is",
    )
    second = (await stored(bridge)).week(date(2022, 5, 9))
    assert (second.primary, second.backup) == ("marcus", "priya")


async def test_the_person_on_call_longest_in_a_daytime_layer_covers_the_week(bridge):
    days = [MONDAY + timedelta(days=d, hours=13) for d in range(5)]
    shifts = [
        on_call(EMAIL["tom" if d < 3 else "jane"], PRIMARY, start, days=9 / 24)
        for d, start in enumerate(days)
    ]
    shifts += [on_call(EMAIL["marcus"], BACKUP, MONDAY)]
    bridge.roster_source.entries = shifts
    result = await bridge.runtime.roster_sync.run(since=MONDAY, until=MONDAY + timedelta(days=7))
    assert result.ok
    assert (await stored(bridge)).week(date(2022, 5, 2)).primary == "tom"


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        (("tom", "tom"), "the primary and the backup must be two different engineers"),
        (("priya", "kai"), "neither the primary (priya) nor the backup (kai) has production access"),
    ],
)
async def test_a_pair_the_roster_rules_refuse_applies_nothing(bridge, pair, words):
    bridge.roster_source.entries = rota([("tom", "rosa"), pair])
    before = export_roster_csv(await stored(bridge))
    result = await bridge.runtime.roster_sync.run(since=MONDAY, until=MONDAY + timedelta(days=14))
    assert not result.ok and any(words in problem for problem in result.problems)
    assert export_roster_csv(await stored(bridge)) == before


async def test_without_a_stored_roster_nothing_is_applied(tmp_path):
    async with fake_bridge(tmp_path, roster=False) as bridge:
        bridge.roster_source.entries = rota([("tom", "rosa")])
        result = await bridge.runtime.roster_sync.run()
        assert not result.ok and "no roster is loaded yet" in result.problems[0]


def test_the_default_window_is_this_week_and_the_three_after():
    window = default_window(datetime(2022, 5, 8, 23, 30, tzinfo=UTC))  # a Sunday
    assert window.weeks == tuple(date(2022, 5, 2) + timedelta(weeks=n) for n in range(4))
    assert (window.since, window.until) == (MONDAY, MONDAY + timedelta(weeks=4))


def test_a_window_covers_every_week_it_touches_and_at_most_90_days():
    window = window_between(datetime(2022, 5, 4, tzinfo=UTC), datetime(2022, 5, 10, tzinfo=UTC))
    assert window.weeks == (date(2022, 5, 2), date(2022, 5, 9))
    with pytest.raises(SyncWindowError, match="after"):
        window_between(MONDAY, MONDAY)
    with pytest.raises(SyncWindowError, match="90 days"):
        window_between(MONDAY, MONDAY + timedelta(days=91))


_people = st.sampled_from([*EMAIL.values(), "Jane.Doe@Example.VA.gov", "stranger@example.com", ""])


@st.composite
def _entries(draw: st.DrawFn) -> list[OnCallEntry]:
    entries = []
    for _ in range(draw(st.integers(0, 12))):
        start = MONDAY + timedelta(hours=draw(st.integers(-48, 24 * 28)))
        hours = draw(st.integers(1, 24 * 10))
        entries.append(
            OnCallEntry(
                draw(_people),
                "Somebody",
                draw(st.sampled_from(SCHEDULES)),
                start,
                start + timedelta(hours=hours),
            )
        )
    return entries


@settings(derandomize=True, max_examples=200, deadline=None)
@given(entries=_entries())
def test_a_sync_plan_is_all_or_nothing_and_keeps_the_roster_valid(entries):
    window = SyncWindow(tuple(w.date() for w in WEEKS))
    plan = plan_sync(ROSTER, entries, window, SCHEDULES)
    known = {e.email.lower() for e in entries if e.email and ROSTER.engineer_by_email(e.email)}
    if any(not e.email or ROSTER.engineer_by_email(e.email) is None for e in entries):
        assert plan.roster is None and plan.problems
        return
    if plan.roster is None:
        assert plan.problems
        return
    assert roster_problems(plan.roster) == []
    window_weeks = set(window.weeks)
    for week in ROSTER.weeks:
        if week.week_start not in window_weeks:
            assert plan.roster.week(week.week_start) == week
    for monday in window.weeks:
        synced = plan.roster.week(monday)
        if synced != ROSTER.week(monday):
            assert ROSTER.engineers[synced.primary].email.lower() in known
            assert ROSTER.engineers[synced.backup].email.lower() in known
