"""The use cases with Slack as the second front door, on in-memory fakes: a watched channel's post is
an incident like a Teams post, its site read from the text or chosen with the picker; replies,
edits, deletions, escalations, hand-offs and commands all go through the one core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from testkit.bridge import ROSTER, SLACK_CHANNEL, SLACK_STAFF, FakeBridge, fake_bridge

from bot import views
from bot.ports import CardAction, Person, PersonalMessage

JANE = Person("U0JANE0001", "Jane Doe", email="jane.doe@example.va.gov", platform="slack")
BACKUP = ROSTER.engineers["marcus"]
WEEK_TWO = datetime(2022, 5, 9, 5, 0, tzinfo=UTC)  # Monday 00:00 in Chicago: Marcus takes over from Jane


@pytest.fixture
async def bridge(tmp_path):
    async with fake_bridge(tmp_path, slack=True) as bridge:
        yield bridge


def slack_chat(bridge: FakeBridge):
    assert bridge.slack is not None
    return bridge.slack


async def press(bridge: FakeBridge, verb: str, data: dict, actor: Person, message: str = "1651590001.000100"):
    action = CardAction("slack", SLACK_CHANNEL, message, verb, data, actor, bridge.clock.now())
    return await bridge.runtime.service.on_card_action(action)


async def test_a_watched_channel_post_becomes_one_tier2_incident_with_its_card_in_the_thread(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows error E42")
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assignment_group == "Scheduling Support"
    assert record.correlation_id == f"slack:{SLACK_CHANNEL}:{post.message_id}"
    [card] = slack_chat(bridge).in_thread(post.thread)
    assert isinstance(card.message.view, views.IncidentCardView)
    assert card.message.view.number == record.number and record.number in (card.message.text or "")
    assert bridge.chat.posts == [] or all(p.channel_id != SLACK_CHANNEL for p in bridge.chat.posts)
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.platform == "slack" and inquiry.card_activity_id == card.id


async def test_the_caller_is_found_by_the_slack_users_email(bridge):
    await bridge.slack_post("Kiosk at 508 shows error E42")
    await bridge.drain()
    [draft] = bridge.tracker.drafts.values()
    pat = await bridge.tracker.find_user(email=SLACK_STAFF.email)
    assert pat is not None and draft.caller_sys_id == pat.sys_id
    assert "Posted in Slack by Pat Frontdesk" in draft.description


@pytest.mark.parametrize("text", ["Kiosk at 508 shows E42", "Atlanta kiosk shows E42", "528a7: no check-in"])
async def test_the_site_is_read_from_a_station_number_or_a_site_name(bridge, text):
    post = await bridge.slack_post(text)
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.station == ("528A7" if "528" in text else "508")
    [card] = slack_chat(bridge).in_thread(post.thread)
    assert card.message.view.site_choices == ()


async def test_a_post_naming_no_site_gets_the_incident_at_once_and_a_picker_of_the_open_sites(bridge):
    post = await bridge.slack_post("The kiosk shows error E42")
    await bridge.drain()
    assert bridge.tracker.creates == 1  # the incident does not wait for the site
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.station is None
    [card] = slack_chat(bridge).in_thread(post.thread)
    choices = {c.station for c in card.message.view.site_choices}
    assert {"508", "528A7", "459"} <= choices and "509" not in choices  # week one is open, week two not
    assert "Which site" in (card.message.text or "")


async def test_a_post_naming_two_sites_gets_the_picker(bridge):
    post = await bridge.slack_post("Both 508 and 644 show E42")
    await bridge.drain()
    assert (await bridge.inquiry(post.thread)).station is None


async def test_the_poster_chooses_the_site_which_is_recorded_with_a_work_note(bridge):
    post = await bridge.slack_post("The kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await press(
        bridge, views.VERB_SET_SITE, {"inquiry": inquiry.correlation_id, "station": "508"}, SLACK_STAFF
    )
    assert outcome.status == 200 and outcome.message == "Site set to 508 Atlanta."
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    assert (inquiry.station, inquiry.site_name, inquiry.go_live_day) == ("508", "Atlanta", 2)
    [record] = bridge.tracker.incidents.values()
    assert any(
        "Site set to 508 Atlanta by Pat Frontdesk in Slack" in n for n in bridge.tracker.notes(record.sys_id)
    )
    [card] = slack_chat(bridge).in_thread(post.thread)
    assert card.current.view.station == "508" and card.current.view.site_choices == ()


async def test_a_site_outside_the_plan_is_refused(bridge):
    post = await bridge.slack_post("The kiosk shows error E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    outcome = await press(
        bridge, views.VERB_SET_SITE, {"inquiry": inquiry.correlation_id, "station": "999"}, SLACK_STAFF
    )
    assert outcome.status == 400
    assert (await bridge.inquiry(post.thread)).station is None


async def test_engineers_are_recognised_by_email_their_posts_are_not_inquiries(bridge):
    await bridge.slack_post("Heads up: 508 kiosks restart at noon", JANE)
    await bridge.drain()
    assert bridge.tracker.creates == 0


async def test_only_engineers_acknowledge_and_acknowledging_moves_the_incident(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.drain()
    inquiry = await bridge.inquiry(post.thread)
    refused = await press(bridge, views.VERB_ACKNOWLEDGE, {"inquiry": inquiry.correlation_id}, SLACK_STAFF)
    assert refused.status == 403
    done = await press(bridge, views.VERB_ACKNOWLEDGE, {"inquiry": inquiry.correlation_id}, JANE)
    assert done.status == 200
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.state_label == "In Progress"
    assert any("Acknowledged in Slack by Jane Doe" in n for n in bridge.tracker.notes(record.sys_id))


async def test_thread_replies_become_comments_and_an_engineers_is_the_first_response(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.slack_post("Still happening", reply_to=post.thread)
    await bridge.slack_post("Looking into it", JANE, reply_to=post.thread)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    comments = bridge.tracker.notes(record.sys_id, "comments")
    assert len(comments) == 2 and "replied in Slack" in comments[0] and "(engineer)" in comments[1]
    inquiry = await bridge.inquiry(post.thread)
    assert inquiry.first_response_by == "Jane Doe" and inquiry.first_response_source == "slack_reply"


async def test_edits_and_deletions_become_work_notes(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.drain()
    await bridge.edit(post, "Kiosk at 508 shows E43")
    await bridge.delete(post)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    notes = bridge.tracker.notes(record.sys_id)
    assert any("edited the original post in Slack" in n for n in notes)
    assert record.short_description == "Kiosk at 508 shows E43"
    assert any("The original post was deleted in Slack" in n for n in notes)
    assert (await bridge.inquiry(post.thread)).deleted


async def test_a_post_in_an_unwatched_channel_is_ignored_and_a_mention_there_gets_help(bridge):
    await bridge.slack_post("Kiosk at 508 shows E42", channel="C0RANDOM01", watched=False)
    mention = await bridge.slack_post("hello", channel="C0RANDOM01", watched=False, mentions_bot=True)
    await bridge.drain()
    assert bridge.tracker.creates == 0
    [help_reply] = slack_chat(bridge).in_thread(mention.thread)
    assert isinstance(help_reply.message.view, views.HelpView)


async def test_a_slack_thread_command_reaches_the_dispatcher(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.drain()
    await bridge.slack_post("route product", JANE, reply_to=post.thread, mentions_bot=True)
    await bridge.drain()
    [record] = bridge.tracker.incidents.values()
    assert record.assignment_group == "eCheck-in Vet Facing Apps"


async def test_the_escalation_mentions_the_backup_in_the_slack_thread_and_tells_them_directly(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.drain()
    bridge.clock.advance(minutes=6)
    await bridge.runtime.escalation.tick()
    await bridge.drain()
    escalation = slack_chat(bridge).in_thread(post.thread)[-1].message
    [mention] = escalation.mentions
    assert f"<at>{mention.name}</at>" in (escalation.text or "")
    assert mention.email == BACKUP.email  # SlackChat finds the Slack id by this e-mail
    assert slack_chat(bridge).direct and bridge.chat.direct == []


async def test_a_duty_handoff_is_announced_in_the_watched_slack_channel_too(bridge):
    post = await bridge.slack_post("Kiosk at 508 shows E42")
    await bridge.drain()
    await bridge.runtime.handoff.tick()  # sets the watermark
    bridge.clock.set(WEEK_TWO)
    assert await bridge.runtime.handoff.tick() >= 1
    await bridge.drain()
    notices = slack_chat(bridge).new_threads(SLACK_CHANNEL)  # Rosa's Friday, then week two
    assert len(notices) >= 2 and all(isinstance(n.message.view, views.HandoffView) for n in notices)
    assert notices[-1].message.view.to_name == "Marcus Lee"
    [record] = bridge.tracker.incidents.values()
    assert [ref.number for ref in notices[-1].message.view.open_incidents] == [record.number]
    assert post.thread.channel_id == SLACK_CHANNEL


async def test_a_slash_command_or_direct_message_is_answered_where_it_was_asked(bridge):
    url = "https://hooks.slack.com/commands/T1/1/x"
    await bridge.runtime.service.on_personal_message(
        PersonalMessage("slack", url, "slash:1", JANE, "duty", bridge.clock.now())
    )
    await bridge.drain()
    [(conversation, answer)] = slack_chat(bridge).direct
    assert conversation == url
    assert "On duty now" in (answer.text or "") and "Jane Doe" in (answer.text or "")
