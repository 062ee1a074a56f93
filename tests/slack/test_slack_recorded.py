"""Slack's recorded payloads (from its docs and its SDK's tests) through the edge and the router to the
use cases: each one does what it should, once."""

from __future__ import annotations

from typing import Any

import pytest
from slack_support import FORM, SlackBot, fixture

from bot import views
from emulators.slack.config import sample_people as slack_sample_people

TOP_LEVEL = fixture("event_message_channel.json")


def with_event(body: dict[str, Any], event_id: str, **event: Any) -> dict[str, Any]:
    """The recorded body with another event id and some event fields replaced (a second delivery)."""
    return {**body, "event_id": event_id, "event": {**body["event"], **event}}


async def deliver(
    slack_bot: SlackBot, body: dict[str, Any] | str, content_type: str = "application/json"
) -> None:
    status, answer = await slack_bot.post(body, content_type)
    assert status == 200, answer
    await slack_bot.drain()


async def test_a_recorded_top_level_post_becomes_one_incident_answered_in_its_thread(slack_bot: SlackBot):
    await deliver(slack_bot, TOP_LEVEL)
    [inquiry] = await slack_bot.inquiries()
    event = TOP_LEVEL["event"]
    assert (inquiry.platform, inquiry.channel_id, inquiry.root_message_id) == ("slack", "C111", event["ts"])
    assert inquiry.correlation_id == f"slack:C111:{event['ts']}"
    assert inquiry.text == event["text"] and inquiry.sys_id
    [card] = slack_bot.chat.posts
    assert (card.channel_id, card.thread_root) == ("C111", event["ts"])
    assert isinstance(card.message.view, views.IncidentCardView) and card.message.view.number
    assert slack_bot.tracker.creates == 1


async def test_a_recorded_thread_reply_becomes_a_comment_on_its_roots_incident(slack_bot: SlackBot):
    reply = fixture("event_message_thread_reply.json")
    root_ts = reply["event"]["thread_ts"]
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvROOT", ts=root_ts, event_ts=root_ts, user="W333"))
    await deliver(slack_bot, reply)
    [inquiry] = await slack_bot.inquiries()
    comments = slack_bot.tracker.notes(inquiry.sys_id, "comments")
    assert len(comments) == 1 and "When Slack was released?" in comments[0] and "in Slack" in comments[0]


async def test_a_recorded_edit_becomes_a_work_note_with_the_new_text(slack_bot: SlackBot):
    edit = fixture("event_message_changed.json")
    original = edit["event"]["previous_message"]["ts"]  # this recording's message has no ts of its own
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvROOT", ts=original, event_ts=original, user="W333"))
    await deliver(slack_bot, edit)
    [inquiry] = await slack_bot.inquiries()
    [note] = [n for n in slack_bot.tracker.notes(inquiry.sys_id) if "edited" in n]
    assert "edited the original post in Slack" in note
    assert slack_bot.tracker.incidents[inquiry.sys_id].short_description == "updated message"


async def test_a_recorded_deletion_becomes_a_work_note_and_marks_the_inquiry(slack_bot: SlackBot):
    deletion = fixture("event_message_deleted.json")
    deleted = deletion["event"]["deleted_ts"]
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvROOT", ts=deleted, event_ts=deleted, user="W333"))
    await deliver(slack_bot, deletion)
    [inquiry] = await slack_bot.inquiries()
    assert inquiry.deleted
    assert any("The original post was deleted in Slack" in n for n in slack_bot.tracker.notes(inquiry.sys_id))


async def test_an_edit_that_changes_no_text_notes_nothing(slack_bot: SlackBot):
    edit = fixture("event_message_changed.json")
    original = edit["event"]["previous_message"]["ts"]
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvROOT", ts=original, event_ts=original, user="W333"))
    same = with_event(edit, "EvSAME")
    same["event"]["message"] = {**same["event"]["message"], "text": "original message"}
    await deliver(slack_bot, same)
    [inquiry] = await slack_bot.inquiries()
    assert not [n for n in slack_bot.tracker.notes(inquiry.sys_id) if "edited" in n]


async def test_a_recorded_app_mention_and_its_message_event_make_one_incident(slack_bot: SlackBot):
    mention = fixture("event_app_mention.json")
    event = mention["event"]
    await deliver(slack_bot, mention)
    as_message = with_event(
        TOP_LEVEL, "EvMSG", **{k: event[k] for k in ("ts", "event_ts", "user", "text", "channel")}
    )
    await deliver(slack_bot, as_message)
    [inquiry] = await slack_bot.inquiries()
    assert inquiry.root_message_id == event["ts"] and "Hi there!" in inquiry.text
    assert slack_bot.tracker.creates == 1 and len(slack_bot.chat.posts) == 1


@pytest.mark.parametrize(
    "name",
    [
        "event_message_app_bot.json",
        "event_message_classic_bot_message.json",
        "event_message_channel_join.json",
    ],
)
async def test_recorded_bot_posts_and_joins_are_never_inquiries(slack_bot: SlackBot, name: str):
    await deliver(slack_bot, fixture(name))
    assert await slack_bot.inquiries() == [] and slack_bot.tracker.creates == 0


async def test_recorded_block_actions_reach_the_card_use_case_and_the_presser_hears_why_not(
    slack_bot: SlackBot, monkeypatch: pytest.MonkeyPatch
):
    answers: list[tuple[str, dict[str, Any]]] = []

    async def respond(url: str, body: dict[str, Any]) -> None:
        answers.append((url, body))

    api = slack_bot.runtime.slack_api
    assert api is not None
    monkeypatch.setattr(api, "respond", respond)
    recorded = fixture("interactivity_block_actions.json")
    await deliver(slack_bot, recorded["body"], FORM)
    [(url, body)] = answers
    assert url == recorded["payload"]["response_url"]
    # The recorded button ("a") is no verb of ours: refused with a reason, shown only to the presser.
    assert body["response_type"] == "ephemeral" and "Unknown action" in body["text"]


async def test_a_recorded_slash_command_is_answered_through_its_response_url(slack_bot: SlackBot):
    recorded = fixture("slash_command.json")
    await deliver(slack_bot, recorded["body"], FORM)
    [(conversation, answer)] = slack_bot.chat.direct
    assert conversation == "https://hooks.slack.com/commands/T111/111/xxxxx"
    assert "did not understand" in (answer.text or "")  # "/hello-world Hi" names no command


async def test_a_slash_command_naming_a_command_runs_it(slack_bot: SlackBot):
    body = fixture("slash_command.json")["body"].replace(
        "command=%2Fhello-world&text=Hi", "command=%2Fgolive&text=duty"
    )
    await deliver(slack_bot, body, FORM)
    [(_, answer)] = slack_bot.chat.direct
    assert "On duty now" in (answer.text or "")


async def test_a_throttled_user_lookup_does_not_hold_up_the_inquiry(slack_bot: SlackBot, slack_emulator: Any):
    pat, sam = slack_sample_people()[:2]
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvSAM", user=sam.user_id))
    faults = {"rate_limit": {"limit": 0, "retry_after": 30, "methods": ["users.info"]}}
    async with slack_bot.client.session.post(
        slack_emulator.make_url("/_emulator/faults"), json=faults
    ) as response:
        assert response.status == 200
    ts = "1651590000.000900"
    await deliver(slack_bot, with_event(TOP_LEVEL, "EvPAT", user=pat.user_id, ts=ts, event_ts=ts))
    by_sam, by_pat = await slack_bot.inquiries()
    assert (by_sam.author_id, by_sam.author_name) == (sam.user_id, sam.name)  # looked up as usual
    assert (by_pat.author_id, by_pat.author_name) == (pat.user_id, pat.user_id)  # Slack said 429: id only
    assert slack_bot.tracker.creates == 2
