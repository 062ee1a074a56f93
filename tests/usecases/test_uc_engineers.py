"""Issue 17 on the fakes: what engineers and site staff see is right. A swap moves duty everywhere,
nobody is paged at night, the card shows what ServiceNow holds (by name, in the site's time zone),
the incident names the caller and the engineer who acted, an edit leaves no old text behind, and
the triage guide guides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from testkit.bridge import ROSTER, STAFF, fake_bridge, person_of

from bot import views
from bot.bridge.escalation import duty_for_escalation, level_target
from bot.ports import Message, Person, Transient
from bot.storage import tables
from schedule.roster import duty_at, is_working
from servicenow.model import STATE_IN_PROGRESS

JANE = person_of(ROSTER.engineers["jane"])
MARCUS = person_of(ROSTER.engineers["marcus"])
ENGINEERS_BY_NAME = {e.name: e for e in ROSTER.engineers.values()}
# Tuesday 2022-05-03, 21:15 in Atlanta (EDT): after every engineer of the week's working day.
NIGHT = datetime(2022, 5, 4, 1, 15, tzinfo=UTC)
SSN_POST = "Veteran SSN 123-45-6789 cannot check in at the kiosk"


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        yield bridge


def card_of(bridge, post) -> views.IncidentCardView:
    card = next(
        p for p in bridge.chat.in_thread(post.thread) if isinstance(p.message.view, views.IncidentCardView)
    )
    return card.current.view


def thread_texts(bridge, post) -> list[str]:
    return [p.message.text or "" for p in bridge.chat.in_thread(post.thread)]


def escalations(bridge, post) -> list[Message]:
    return [
        p.message
        for p in bridge.chat.in_thread(post.thread)
        if "has had no response" in (p.message.text or "")
    ]


async def personal_answer(bridge, person: Person, text: str) -> str:
    before = len(bridge.chat.direct)
    await bridge.say(text, person)
    await bridge.drain()
    answers = [
        m.text or "" for conversation, m in bridge.chat.direct[before:] if conversation == f"a:{person.id}"
    ]
    assert answers, f"no answer to {text!r}"
    return answers[-1]


# --- swap ---------------------------------------------------------------------------------------------


async def test_a_swap_exchanges_primary_and_backup_in_duty_cards_assignment_and_escalation(bridge):
    before = duty_at(ROSTER, bridge.clock.now())
    assert (before.primary.name, before.backup.name) == ("Jane Doe", "Marcus Lee")

    answer = await personal_answer(bridge, JANE, "swap")
    assert "Marcus Lee is primary and Jane Doe backup" in answer
    duty = await personal_answer(bridge, JANE, "duty")
    assert "- Primary: Marcus Lee" in duty and "- Backup: Jane Doe" in duty and "Fallback" not in duty
    async with bridge.runtime.store.read() as connection:
        audit = (await connection.execute(select(tables.audit_log.c.action))).scalars().all()
    assert "duty.swap" in audit and "roster.swap" not in audit

    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assigned_to == "marcus.lee"  # the new primary picks it up
    card = card_of(bridge, post)
    assert (card.duty_primary, card.duty_backup, card.assignee) == ("Marcus Lee", "Jane Doe", "Marcus Lee")

    bridge.clock.advance(minutes=5)
    await bridge.runtime.escalation.tick()
    await bridge.drain()
    [escalation] = escalations(bridge, post)
    assert [m.name for m in escalation.mentions] == ["Jane Doe"]  # the backup now
    assert "<at>Jane Doe</at>" in (escalation.text or "") and "Marcus Lee (primary) may be busy" in (
        escalation.text or ""
    )


async def test_swapping_again_hands_the_day_back_and_others_cannot_swap(bridge):
    await personal_answer(bridge, MARCUS, "swap")
    assert "Primary: Marcus Lee" in await personal_answer(bridge, MARCUS, "duty")
    await personal_answer(bridge, MARCUS, "swap")
    assert "Primary: Jane Doe" in await personal_answer(bridge, JANE, "duty")
    priya = person_of(ROSTER.engineers["priya"])
    assert "Only today's primary or backup" in await personal_answer(bridge, priya, "swap")
    assert "only engineers on the duty roster" in await personal_answer(bridge, STAFF, "swap")


# --- nights --------------------------------------------------------------------------------------------


async def test_a_post_at_night_pages_nobody_until_the_first_engineer_starts(tmp_path):
    async with fake_bridge(tmp_path, now=NIGHT) as bridge:
        post = await bridge.post("508", "Kiosk shows error E42")
        await bridge.drain()
        [first] = thread_texts(bridge, post)
        assert "someone will pick it up at Wed 04 May 08:00 EDT" in first

        for minutes in (5, 15, 60, 10 * 60 + 44):  # through the night, until 07:59 EDT
            bridge.clock.set(NIGHT + timedelta(minutes=minutes))
            await bridge.runtime.escalation.tick()
        await bridge.drain()
        assert escalations(bridge, post) == [] and bridge.chat.direct == []

        bridge.clock.set(datetime(2022, 5, 4, 12, 5, tzinfo=UTC))  # 08:05 EDT: Jane's 5th minute
        await bridge.runtime.escalation.tick()
        await bridge.drain()
        [escalation] = escalations(bridge, post)
        # Marcus (Chicago) starts at 09:00 EDT: Jane, the one working, is asked, not told she is busy.
        assert [m.name for m in escalation.mentions] == ["Jane Doe"]
        assert "may be busy" not in (escalation.text or "")

        bridge.clock.set(datetime(2022, 5, 4, 12, 15, tzinfo=UTC))
        await bridge.runtime.escalation.tick()
        await bridge.drain()
        second = escalations(bridge, post)[1:]
        assert [m.name for m in second[0].mentions] == ["Jane Doe"]
        for message in escalations(bridge, post):
            for mention in message.mentions:
                assert is_working(ENGINEERS_BY_NAME[mention.name], bridge.clock.now())


async def test_an_escalation_falling_due_after_hours_waits_for_the_morning(tmp_path):
    # Tuesday 17:58 EDT: Marcus works until 18:00 EDT, so the clock starts; it runs out at 18:03.
    posted = datetime(2022, 5, 3, 21, 58, tzinfo=UTC)
    async with fake_bridge(tmp_path, now=posted) as bridge:
        post = await bridge.post("508", "Kiosk shows error E42")
        await bridge.drain()
        assert not any("pick it up" in t for t in thread_texts(bridge, post))
        bridge.clock.set(posted + timedelta(minutes=5))
        assert await bridge.runtime.escalation.tick() == 0
        bridge.clock.set(datetime(2022, 5, 4, 12, 0, tzinfo=UTC))  # Wednesday 08:00 EDT
        assert await bridge.runtime.escalation.tick() >= 1
        await bridge.drain()
        first = escalations(bridge, post)[0]
        assert [m.name for m in first.mentions] == ["Jane Doe"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    posted=st.datetimes(
        min_value=datetime(2022, 5, 2), max_value=datetime(2022, 5, 29), timezones=st.just(UTC)
    ),
    later=st.integers(min_value=0, max_value=3 * 24 * 60),
    level=st.sampled_from([1, 2]),
)
def test_nobody_is_ever_mentioned_outside_their_working_hours(posted, later, level):
    at = posted + timedelta(minutes=later)
    target = level_target(duty_for_escalation(ROSTER, posted, at), level, at)
    assert target is None or is_working(target, at)


# --- cards show what ServiceNow holds ------------------------------------------------------------------------


async def test_the_card_after_acknowledge_and_after_a_route_is_what_servicenow_holds(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_INQUIRY: inquiry.correlation_id}, MARCUS)
    assert outcome.view is None  # no card from before the change
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    card = card_of(bridge, post)
    assert record.state == STATE_IN_PROGRESS
    assert (card.state_label, card.group, card.assignee) == (
        record.state_label,
        record.assignment_group,
        record.assigned_to_name,
    )
    assert card.assignee == "Jane Doe"  # assigned at creation; shown by name, never as jane.doe

    await bridge.press(
        views.VERB_ROUTE,
        {views.DATA_INQUIRY: inquiry.correlation_id, views.DATA_GROUP: "eCheck-in Vet Facing Apps"},
        MARCUS,
        card_message_id="card-2",
    )
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    card = card_of(bridge, post)
    assert (card.state_label, card.group, card.assignee) == (
        record.state_label,
        record.assignment_group,
        record.assigned_to_name,
    )
    assert card.assignee == "Jane Doe"  # the route kept her in ServiceNow, so the card keeps her
    notes = bridge.tracker.notes(record.sys_id)
    assert any("Acknowledged in Teams by Marcus Lee (marcus.lee)" in n for n in notes)
    assert any(
        "Routed to eCheck-in Vet Facing Apps from Teams by Marcus Lee (marcus.lee)" in n for n in notes
    )


async def test_acknowledging_an_unassigned_incident_takes_it(tmp_path):
    async with fake_bridge(tmp_path, now=NIGHT) as bridge:
        post = await bridge.post("508", "Kiosk shows error E42")
        await bridge.drain()
        [record] = bridge.tracker.incidents.values()
        assert record.assigned_to is None  # nobody works at night
        bridge.clock.set(datetime(2022, 5, 4, 12, 1, tzinfo=UTC))
        inquiry = await bridge.inquiry(post.thread)
        await bridge.press(views.VERB_ACKNOWLEDGE, {views.DATA_INQUIRY: inquiry.correlation_id}, JANE)
        await bridge.drain()
        [record] = bridge.tracker.incidents.values()
        assert (record.assigned_to, card_of(bridge, post).assignee) == ("jane.doe", "Jane Doe")


async def test_cards_show_the_post_time_in_the_sites_own_time_zone(bridge):
    phoenix = await bridge.post("644", "Kiosk shows error E42")
    anchorage = await bridge.post("463", "Kiosk shows error E42")
    await bridge.drain()
    # 15:00 UTC: 08:00 in Phoenix (MST all year), 07:00 in Anchorage (AKDT).
    assert card_of(bridge, phoenix).posted_at_text == "Tue 03 May 08:00 MST"
    assert card_of(bridge, anchorage).posted_at_text == "Tue 03 May 07:00 AKDT"


async def test_a_late_post_names_its_incident_once(bridge):
    channel = await bridge.channel_of("508")
    bridge.clock.advance(days=7)
    await bridge.runtime.lifecycle.tick()
    await bridge.drain()
    assert bridge.directory.channels[channel].archived
    post = await bridge.post("508", "Is the kiosk still supported?")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    [reply] = thread_texts(bridge, post)
    assert reply.count(record.number) == 1 and "channel has closed" in reply


# --- the people on the incident ---------------------------------------------------------------------------------


async def test_the_incident_names_its_caller_and_links_the_thread(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    pat = await bridge.tracker.find_user(email="pat.frontdesk@example.org")
    assert pat is not None and (record.caller_sys_id, record.caller_name) == (pat.sys_id, "Pat Frontdesk")
    description = bridge.tracker.descriptions[record.sys_id]
    assert (
        f"Thread: https://chat.example/l/{post.thread.channel_id.replace(':', '%3A').replace('@', '%40')}/"
        in (description)
    )
    assert post.thread.key not in description  # a link, not the raw conversation id


async def test_a_poster_unknown_to_servicenow_is_named_in_the_description(bridge):
    stranger = Person("29:zed", "Zed Visitor", "a1b2c3d4-0000-4000-8000-0000000000ff")
    await bridge.post("508", "Kiosk shows error E42", stranger)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.caller_sys_id == ""
    assert "Posted in Microsoft Teams by Zed Visitor" in bridge.tracker.descriptions[record.sys_id]


async def test_a_resolve_from_the_card_names_the_engineer_and_posts_the_notes_once(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    await bridge.press(
        views.VERB_RESOLVE,
        {
            views.DATA_INQUIRY: inquiry.correlation_id,
            views.CLOSE_CODE_INPUT: "Solution provided",
            views.CLOSE_NOTES_INPUT: "Restarted the kiosk service",
        },
        MARCUS,
    )
    await bridge.drain()
    await bridge.runtime.sync.poll()  # the change feed sees the resolve too: still one reply
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert (record.resolved_by, record.resolved_by_name) == ("marcus.lee", "Marcus Lee")
    assert any(
        "Resolved in Teams by Marcus Lee (marcus.lee)." in n for n in bridge.tracker.notes(record.sys_id)
    )
    replies = [t for t in thread_texts(bridge, post) if "Resolution notes" in t]
    assert len(replies) == 1
    assert (
        "Restarted the kiosk service" in replies[0]
        and "reply in this thread and the incident reopens" in replies[0]
    )
    card = card_of(bridge, post)
    assert card.resolved and card.resolved_by == "Marcus Lee"


async def test_a_resolve_the_instance_will_not_credit_says_so_in_the_work_note(bridge):
    bridge.tracker.refuse.add("resolved_by")
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.post(
        "508", "resolve Solution provided | restarted", JANE, reply_to=post.thread, mentions_bot=True
    )
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.state_label == "Resolved" and record.resolved_by == "golive.integration"
    assert any(
        "did not accept Jane Doe (jane.doe) as resolved_by" in n for n in bridge.tracker.notes(record.sys_id)
    )


# --- edits ----------------------------------------------------------------------------------------------------


async def test_an_edited_post_replaces_the_incident_text_and_leaves_no_old_text_behind(bridge):
    post = await bridge.post("508", SSN_POST)
    await bridge.drain()
    assert any("personal data" in t for t in thread_texts(bridge, post))
    await bridge.edit(post, "Veteran cannot check in at the kiosk")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.short_description == "Veteran cannot check in at the kiosk"
    assert bridge.tracker.descriptions[record.sys_id].startswith("Veteran cannot check in at the kiosk\n")
    texts_in_servicenow = [record.short_description, bridge.tracker.descriptions[record.sys_id]]
    texts_in_servicenow += [entry.value for entry in bridge.tracker.journal]
    assert not any("123-45-6789" in text for text in texts_in_servicenow)
    assert any("edited the original post" in n for n in bridge.tracker.notes(record.sys_id))
    inquiry = await bridge.inquiry(post.thread)
    assert "123-45-6789" not in inquiry.text
    thanks = [t for t in thread_texts(bridge, post) if t.startswith("Thank you for editing")]
    assert len(thanks) == 1
    await bridge.edit(post, "Veteran cannot check in at the kiosk (room 4)")
    await bridge.drain()
    assert len([t for t in thread_texts(bridge, post) if t.startswith("Thank you for editing")]) == 1


async def test_an_edit_before_the_incident_exists_creates_it_with_the_new_text(bridge):
    bridge.tracker.failures.fail_next(Transient("ServiceNow unavailable", retry_after=0))
    post = await bridge.post("508", SSN_POST)
    await bridge.edit(post, "Veteran cannot check in")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.short_description == "Veteran cannot check in"
    assert "123-45-6789" not in bridge.tracker.descriptions[record.sys_id]


# --- triage -----------------------------------------------------------------------------------------------------


async def test_choosing_a_triage_category_shows_what_to_do(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await bridge.press(
        views.VERB_TRIAGE, {views.DATA_INQUIRY: inquiry.correlation_id, views.TRIAGE_INPUT: "Bug"}, JANE
    )
    assert outcome.status == 200 and "Verify it" in (outcome.message or "")
    await bridge.drain()
    card = card_of(bridge, post)
    assert (
        card.triage == "Bug"
        and card.triage_guidance is not None
        and "follow-up issue" in card.triage_guidance
    )
    outcome = await bridge.press(
        views.VERB_TRIAGE,
        {views.DATA_INQUIRY: inquiry.correlation_id, views.TRIAGE_INPUT: "data_change_request"},
        JANE,
        card_message_id="card-2",
    )
    assert "err on refusing" in (outcome.message or "")


async def test_a_resolve_retried_after_its_save_posts_its_notes_once(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    add_work_note = bridge.tracker.add_work_note
    failed: list[str] = []

    async def flaky_note(sys_id: str, text: str) -> None:
        if text.startswith("Resolved in") and not failed:
            failed.append(text)
            raise Transient("ServiceNow unavailable", retry_after=0)
        await add_work_note(sys_id, text)

    bridge.tracker.add_work_note = flaky_note  # type: ignore[method-assign]
    await bridge.post(
        "508", "resolve Solution provided | restarted", JANE, reply_to=post.thread, mentions_bot=True
    )
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert failed and record.resolved_by == "jane.doe"
    assert len([t for t in thread_texts(bridge, post) if "Resolution notes" in t]) == 1
    assert len([n for n in bridge.tracker.notes(record.sys_id) if n.startswith("Resolved in")]) == 1
