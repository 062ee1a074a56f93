"""Through the emulators: Slack's signed deliveries in, the real slack_sdk client out. A retry storm
makes one incident; the whole journey from a post to an acknowledged incident and back; a 429 drill
where the bot waits as Retry-After says and loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_stack import JANE, PEOPLE, STAFF, SlackStack, start_slack_stack
from testkit.fakes import FakeTracker
from testkit.stack import basic, wait_for

from bot.ports import Message
from bot.slack.blocks import KEY_PREFIX
from bot.views import HandoffView


@pytest.fixture
async def slack_stack(tmp_path) -> AsyncIterator[SlackStack]:
    stack = await start_slack_stack(tmp_path)
    yield stack
    await stack.close()


def bot_replies(thread: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in thread["replies"] if r.get("bot_id")]


def cards(thread: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in bot_replies(thread)
        if any(str(b.get("block_id", "")).startswith(KEY_PREFIX) for b in r.get("blocks") or [])
    ]


async def test_a_retry_storm_makes_one_incident_and_one_reply(slack_stack: SlackStack):
    channel = await slack_stack.channel()
    posted = await slack_stack.post(channel, "Kiosk at 508 shows error E42")
    assert posted["status"] == 200
    event_id = posted["event_id"]
    # Slack's retries (same event_id, X-Slack-Retry-Num 1-3), one of them while another is in flight,
    # and the rare duplicate under a new event_id.
    redeliveries = [{"event_id": event_id, "retry_num": n, "retry_reason": "http_timeout"} for n in (1, 2, 3)]
    answers = await asyncio.gather(
        *(slack_stack.driver("POST", "/_emulator/redeliver", body) for body in redeliveries),
        slack_stack.driver("POST", "/_emulator/redeliver", {"event_id": event_id, "new_event_id": True}),
    )
    assert [a["status"] for a in answers] == [200, 200, 200, 200]
    await slack_stack.drain()
    tracker = slack_stack.runtime.tracker
    assert isinstance(tracker, FakeTracker) and tracker.creates == 1
    thread = await slack_stack.thread(channel, posted["ts"])
    [card] = cards(thread)
    [record] = tracker.incidents.values()
    assert record.number in card["text"]
    stored = await slack_stack.calls("chat.postMessage")
    assert len(stored) == 1  # one post to Slack, however often the event came


async def test_the_card_has_acknowledge_and_one_button_per_group_labelled_with_its_name(
    slack_stack: SlackStack,
):
    channel = await slack_stack.channel()
    posted = await slack_stack.post(channel, "The kiosk shows error E42")
    await slack_stack.drain()
    [card] = cards(await slack_stack.thread(channel, posted["ts"]))
    elements = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    labels = [e["text"]["text"] for e in elements if e["type"] == "button"]
    assert labels[:3] == ["Acknowledge", "Scheduling Support", "eCheck-in Vet Facing Apps"]
    selects = {e["action_id"]: e for e in elements if e["type"] == "static_select"}
    assert "508 Atlanta" in [o["text"]["text"] for o in selects["set_site"]["options"]]


async def test_picking_the_site_in_slack_records_it(slack_stack: SlackStack):
    channel = await slack_stack.channel()
    posted = await slack_stack.post(channel, "The kiosk shows error E42")
    await slack_stack.drain()
    [card] = cards(await slack_stack.thread(channel, posted["ts"]))
    option = json.dumps(
        {"inquiry": f"slack:{channel}:{posted['ts']}", "station": "508"}, separators=(",", ":")
    )
    pressed = await slack_stack.driver(
        "POST",
        "/_emulator/actions",
        {
            "channel": channel,
            "message_ts": card["ts"],
            "action_id": "set_site",
            "value": option,
            "user": STAFF.user_id,
        },
    )
    assert pressed["status"] == 200
    await slack_stack.drain()
    [card] = cards(await slack_stack.thread(channel, posted["ts"]))
    assert "508 Atlanta" in str(card["blocks"]) and "set_site" not in str(card["blocks"])


async def test_posts_are_paced_and_a_429_is_waited_out_as_retry_after_says_losing_nothing(tmp_path):
    stack = await start_slack_stack(tmp_path, background=True)
    try:
        channel = await stack.channel()
        await stack.driver(
            "POST",
            "/_emulator/faults",
            {"rate_limit": {"limit": 1, "retry_after": 2, "methods": ["chat.postMessage"]}},
        )
        posts = [await stack.post(channel, f"Kiosk {n} at 508 shows E4{n}") for n in range(3)]

        async def every_thread_has_its_card() -> bool:
            threads = [await stack.thread(channel, p["ts"]) for p in posts]
            return all(len(cards(t)) == 1 for t in threads)

        await wait_for(every_thread_has_its_card, timeout=30)
        calls = await stack.calls("chat.postMessage")
        refused = [c for c in calls if c["http_status"] == 429]
        assert refused, "the drill needs at least one 429"
        for refusal in refused:
            # No post reached Slack while Retry-After (2 s) was running.
            too_soon = [c for c in calls if refusal["at"] < c["at"] < refusal["at"] + 1.95]
            assert too_soon == [], (refusal, too_soon)
        threads = [await stack.thread(channel, p["ts"]) for p in posts]
        assert [len(cards(t)) for t in threads] == [1, 1, 1]  # nothing lost, nothing twice
        tracker = stack.runtime.tracker
        assert isinstance(tracker, FakeTracker) and tracker.creates == 3
    finally:
        await stack.close()


async def test_the_journey_from_a_slack_post_to_an_acknowledged_incident_and_back(tmp_path):
    stack = await start_slack_stack(tmp_path, servicenow=True, background=True)
    try:
        channel = await stack.channel()
        posted = await stack.post(channel, "Kiosk at 508 shows error E42")
        assert posted["status"] == 200

        async def card() -> dict[str, Any] | None:
            found = cards(await stack.thread(channel, posted["ts"]))
            return found[0] if found and "INC" in found[0]["text"] else None

        reply = await wait_for(card, timeout=30)
        [incident] = await stack.incidents()
        assert incident["number"] in reply["text"]
        assert incident["correlation_id"] == f"slack:{channel}:{posted['ts']}"
        assert incident["caller_id"], "the caller is found by the Slack user's e-mail"
        # An engineer presses Acknowledge in Slack: the incident moves to In Progress.
        pressed = await stack.driver(
            "POST",
            "/_emulator/actions",
            {"channel": channel, "message_ts": reply["ts"], "action_id": "acknowledge", "user": JANE.user_id},
        )
        assert pressed["status"] == 200

        async def in_progress() -> bool:
            return [i["state"] for i in await stack.incidents()] == ["2"]

        await wait_for(in_progress, timeout=30)
        # A comment made in ServiceNow comes back to the Slack thread, once.
        async with stack.http.patch(
            f"{stack.servicenow_url}/api/now/table/incident/{incident['sys_id']}",
            json={"comments": "Please restart the kiosk"},
            headers=basic("admin", "admin"),
        ) as response:
            assert response.status == 200

        async def comment_in_thread() -> int:
            thread = await stack.thread(channel, posted["ts"])
            return sum("Please restart the kiosk" in r["text"] for r in bot_replies(thread))

        assert await wait_for(comment_in_thread, timeout=30) == 1
        # A thread reply in Slack becomes a comment on the incident.
        await stack.post(channel, "Restarted, works now", thread_ts=posted["ts"])

        async def reply_commented() -> bool:
            async with stack.http.get(
                f"{stack.servicenow_url}/api/now/table/sys_journal_field",
                params={"sysparm_query": f"element_id={incident['sys_id']}^element=comments"},
                headers=basic("admin", "admin"),
            ) as response:
                entries = (await response.json())["result"]
            return any("Restarted, works now" in e["value"] for e in entries)

        await wait_for(reply_commented, timeout=30)
        assert await comment_in_thread() == 1
    finally:
        await stack.close()


async def test_a_notice_addressed_to_a_watched_channel_by_name_lands_there(slack_stack: SlackStack):
    chat = slack_stack.runtime.chats["slack"]
    thread = await chat.start_thread("check-in-go-live", Message(view=HandoffView("Jane Doe", "Marcus Lee")))
    channel = await slack_stack.channel()
    assert thread.channel_id == channel
    [notice] = [m for m in await slack_stack.messages(channel) if m["ts"] == thread.root_id]
    assert notice.get("bot_id") and "Jane Doe handed over to Marcus Lee" in notice["text"]


async def test_an_escalation_mentions_the_backup_by_slack_id_and_tells_them_directly(slack_stack: SlackStack):
    channel = await slack_stack.channel()
    posted = await slack_stack.post(channel, "Kiosk at 508 shows error E42")
    await slack_stack.drain()
    slack_stack.clock.advance(minutes=6)
    assert await slack_stack.runtime.escalation.tick() == 1
    await slack_stack.drain()
    thread = await slack_stack.thread(channel, posted["ts"])
    marcus = next(p for p in PEOPLE if p.name == "Marcus Lee")  # the sample roster's backup this week
    [escalation] = [r for r in bot_replies(thread) if "no response" in r["text"]]
    assert escalation["text"].startswith(f"<@{marcus.user_id}>")
    channels = (await slack_stack.driver("GET", "/_emulator/channels"))["channels"]
    [direct] = [c for c in channels if c["is_im"]]
    [told] = await slack_stack.messages(direct["id"])
    assert "no response for 5 minutes" in told["text"]
