"""The use cases on in-memory fakes of the ports: no servers, every job drained before asserting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from testkit.bridge import ROSTER, STAFF, fake_bridge, person_of

from bot import views
from bot.ports import Permanent, Person, Transient
from servicenow.model import STATE_IN_PROGRESS

ENGINEERS = [person_of(e) for e in ROSTER.engineers.values()]


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path) as bridge:
        yield bridge


def engineer(name: str) -> Person:
    return next(p for p in ENGINEERS if p.name.startswith(name))


async def test_a_staff_post_becomes_one_tier2_incident_and_its_card_in_the_thread(bridge):
    post = await bridge.post("508", "Kiosk shows error E42\nIt started at 9am")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assignment_group == "Scheduling Support"
    assert record.short_description == "Kiosk shows error E42"
    [card] = bridge.chat.in_thread(post.thread)
    assert isinstance(card.message.view, views.IncidentCardView)
    assert card.message.view.number == record.number
    assert record.number in (card.message.text or "")
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.sys_id == record.sys_id and inquiry.card_activity_id == card.id


async def test_a_redelivered_post_makes_no_second_incident(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.runtime.service.on_channel_post(post)
    await bridge.drain()
    assert bridge.tracker.creates == 1
    assert len(bridge.chat.in_thread(post.thread)) == 1


async def test_replies_become_comments_and_an_engineer_reply_is_the_first_response(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.post("508", "Still happening", reply_to=post.thread)
    await bridge.post("508", "Looking into it now", engineer("Jane"), reply_to=post.thread)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    comments = bridge.tracker.notes(record.sys_id, "comments")
    assert len(comments) == 2 and "(site staff)" in comments[0] and "(engineer)" in comments[1]
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.first_response_by == "Jane Doe" and inquiry.first_response_source == "teams_reply"


async def test_an_engineer_is_recognised_whatever_the_case_of_their_object_id(bridge):
    jane = engineer("Jane")
    shouting = Person(jane.id, jane.name, (jane.aad_object_id or "").upper())
    await bridge.post("508", "Heads up: new release at noon", shouting)
    await bridge.drain()
    assert bridge.tracker.creates == 0  # an engineer's own post is an announcement, not an inquiry


async def test_edits_and_deletes_become_work_notes(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    await bridge.edit(post, "Kiosk shows error E43")
    await bridge.delete(post)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    notes = bridge.tracker.notes(record.sys_id)
    assert any("edited the original post" in n for n in notes)
    assert any("was deleted" in n for n in notes)
    assert (await bridge.inquiry(post.thread)).deleted


async def test_acknowledge_from_the_card_moves_the_incident_and_updates_the_card(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await bridge.press(
        views.VERB_ACKNOWLEDGE, {views.DATA_INQUIRY: inquiry.correlation_id}, engineer("Jane")
    )
    # The answer is a message; the card is replaced once ServiceNow has made the change (issue 17).
    assert outcome.status == 200 and outcome.view is None and "Acknowledged" in (outcome.message or "")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.state == STATE_IN_PROGRESS
    [card] = bridge.chat.in_thread(post.thread)
    assert card.updates and card.current.view.state_label == "In Progress"


async def test_site_staff_cannot_press_an_engineers_button(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await bridge.press(
        views.VERB_ROUTE,
        {views.DATA_INQUIRY: inquiry.correlation_id, views.DATA_GROUP: "eCheck-in Vet Facing Apps"},
        STAFF,
    )
    assert outcome.status == 403
    await bridge.drain()
    assert next(iter(bridge.tracker.incidents.values())).assignment_group == "Scheduling Support"


async def test_thread_commands_route_and_resolve_for_engineers_only(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.post("508", "route vfa", STAFF, reply_to=post.thread, mentions_bot=True)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assignment_group == "Scheduling Support"
    assert any("Only engineers" in (p.message.text or "") for p in bridge.chat.in_thread(post.thread))
    await bridge.post("508", "route vfa", engineer("Jane"), reply_to=post.thread, mentions_bot=True)
    await bridge.post(
        "508",
        "resolve Solution provided | restarted the kiosk",
        engineer("Jane"),
        reply_to=post.thread,
        mentions_bot=True,
    )
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assignment_group == "eCheck-in Vet Facing Apps"
    assert record.close_code == "Solution provided" and record.state_label == "Resolved"


async def test_an_unanswered_inquiry_mentions_the_backup_after_five_minutes(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    bridge.clock.advance(minutes=4)
    await bridge.runtime.escalation.tick()
    await bridge.drain()
    assert len(bridge.chat.in_thread(post.thread)) == 1
    bridge.clock.advance(minutes=2)
    await bridge.runtime.escalation.tick()
    await bridge.drain()
    escalation = bridge.chat.in_thread(post.thread)[-1].message
    assert escalation.mentions and f"<at>{escalation.mentions[0].name}</at>" in (escalation.text or "")
    assert bridge.chat.direct, "the backup is also told directly"


async def test_a_comment_made_in_servicenow_comes_back_to_the_thread_once(bridge):
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    bridge.tracker._journal(record.sys_id, "comments", "Please restart the kiosk")
    entry = bridge.tracker.journal[-1]
    bridge.tracker.journal[-1] = type(entry)(
        entry.sys_id, entry.incident_sys_id, entry.element, entry.value, "admin", entry.created_at
    )
    await bridge.runtime.sync.poll()
    await bridge.runtime.sync.poll()
    await bridge.drain()
    texts = [p.message.text or "" for p in bridge.chat.in_thread(post.thread)]
    assert sum("Please restart the kiosk" in t for t in texts) == 1


async def test_channels_open_with_a_welcome_and_retire_with_a_summary(bridge):
    channel = await bridge.channel_of("508")
    [welcome] = bridge.chat.new_threads(channel)
    assert isinstance(welcome.message.view, views.WelcomeView)
    bridge.clock.advance(days=7)
    await bridge.runtime.lifecycle.tick()
    await bridge.drain()
    assert bridge.directory.channels[channel].archived
    assert isinstance(bridge.chat.new_threads(channel)[-1].message.view, views.RetirementView)


async def test_a_post_with_personal_data_gets_a_reminder(bridge):
    post = await bridge.post("508", "Veteran SSN 123-45-6789 cannot check in")
    await bridge.drain()
    texts = [p.message.text or "" for p in bridge.chat.in_thread(post.thread)]
    assert any("personal data" in t for t in texts)


async def test_a_transient_failure_is_retried_and_a_permanent_one_ends_the_job(bridge):
    bridge.tracker.failures.fail_next(Transient("ServiceNow unavailable", retry_after=0))
    post = await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    assert bridge.tracker.creates == 1 and len(bridge.chat.in_thread(post.thread)) == 1
    bridge.chat.failures.fail_next(Permanent("Teams rejected the post (status 403)"))
    await bridge.post("508", "Second problem")
    await bridge.drain()
    assert bridge.tracker.creates == 2


async def test_personal_commands_answer_in_the_chat(bridge):
    await bridge.say("duty")
    await bridge.drain()
    [(conversation, message)] = bridge.chat.direct
    assert conversation == f"a:{STAFF.id}" and "Primary" in (message.text or "")


async def test_escalations_wait_for_the_clock_not_for_wall_time(bridge):
    await bridge.post("508", "Kiosk shows error E42")
    await bridge.drain()
    bridge.clock.advance(seconds=timedelta(minutes=5).total_seconds() + 1)
    assert await bridge.runtime.escalation.tick() == 1
