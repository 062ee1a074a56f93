"""What the emulator sends and answers has every key Slack's recorded payloads have.

Each test names the keys it leaves out and why (Enterprise Grid ids, per-user read state).
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from slackemu_support import ENGINEER, STAFF, FakeBot, call, channel_id, fixture, post_as, service

ENTERPRISE = {"enterprise_id"}  # the emulated workspace is not part of an Enterprise Grid org


def keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


def assert_covers(
    ours: dict[str, Any], recorded: dict[str, Any], leave_out: frozenset[str] | set[str] = frozenset()
) -> None:
    missing = keys(recorded) - leave_out - keys(ours)
    assert not missing, f"missing keys {sorted(missing)}"


async def test_top_level_message_event_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    await post_as(emulator, await channel_id(emulator), STAFF, "hello")
    [ours] = fake_bot.events("message")
    recorded = fixture("event_message_channel.json")
    assert_covers(ours, recorded, ENTERPRISE)
    assert_covers(ours["event"], recorded["event"])
    assert keys(ours["authorizations"][0]) == keys(recorded["authorizations"][0])
    assert type(ours["event_time"]) is type(recorded["event_time"]) is int


async def test_thread_reply_event_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "root")
    await post_as(emulator, channel, ENGINEER, "reply", root["ts"])
    ours = fake_bot.events("message")[-1]
    recorded = fixture("event_message_thread_reply.json")
    # user_profile rides along only on some deliveries (shared channels, assistants).
    assert_covers(ours["event"], recorded["event"], {"user_profile"})
    assert ours["event"]["thread_ts"] != ours["event"]["ts"]


async def test_message_changed_event_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "before")
    await emulator.post(f"/_emulator/channels/{channel}/messages/{posted['ts']}/edit", json={"text": "after"})
    [ours] = fake_bot.events("message", "message_changed")
    recorded = fixture("event_message_changed.json")
    assert keys(ours["event"]) == keys(recorded["event"])
    assert_covers(ours["event"]["message"], recorded["event"]["message"])
    assert_covers(ours["event"]["previous_message"], recorded["event"]["previous_message"])


async def test_message_deleted_event_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "gone")
    await emulator.post(f"/_emulator/channels/{channel}/messages/{posted['ts']}/delete")
    [ours] = fake_bot.events("message", "message_deleted")
    recorded = fixture("event_message_deleted.json")
    assert keys(ours["event"]) == keys(recorded["event"])
    assert_covers(ours["event"]["previous_message"], recorded["event"]["previous_message"])


async def test_the_bots_echoed_post_matches_the_recorded_app_message(make_emulator, fake_bot: FakeBot):
    client = await make_emulator(fake_bot.url, echo_bot_messages=True)
    await call(client, "chat.postMessage", channel=await channel_id(client), text="INC0010001")
    await service(client).drain()
    [ours] = fake_bot.events("message")
    recorded = fixture("event_message_app_bot.json")
    assert_covers(ours["event"], recorded["event"])
    assert_covers(ours["event"]["bot_profile"], recorded["event"]["bot_profile"])
    assert "subtype" not in ours["event"] and "subtype" not in recorded["event"]


async def test_app_mention_event_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    bot_user = service(emulator).config.bot_user_id
    await post_as(emulator, await channel_id(emulator), STAFF, f"<@{bot_user}> hi")
    [ours] = fake_bot.events("app_mention")
    assert_covers(ours["event"], fixture("event_app_mention.json")["event"])


async def test_channel_join_event_matches_the_documented_example(emulator: TestClient, fake_bot: FakeBot):
    resp = await emulator.post("/_emulator/channels", json={"name": "go-live-508"})
    channel = (await resp.json())["id"]
    service(emulator).state.channels[channel].members.remove(STAFF.user_id)
    await emulator.post(f"/_emulator/channels/{channel}/members", json={"user": STAFF.user_id})
    [ours] = fake_bot.events("message", "channel_join")
    # inviter is present only when someone invited the person; here they joined on their own.
    assert_covers(ours["event"], fixture("event_message_channel_join.json")["event"], {"inviter"})


async def test_url_verification_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    await emulator.post("/_emulator/url_verification")
    assert keys(fake_bot.received[0].json()) == keys(fixture("event_url_verification.json"))


async def test_block_actions_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    button = {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "action_id": "a", "value": "v"}
    card = await call(
        emulator,
        "chat.postMessage",
        channel=channel,
        text="x",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    await emulator.post(
        "/_emulator/actions", json={"channel": channel, "message_ts": card["ts"], "action_id": "a"}
    )
    request = fake_bot.forms()[0]
    recorded = fixture("interactivity_block_actions.json")
    assert request.content_type == recorded["content_type"]
    assert request.raw.startswith(recorded["body"][: len("payload=")].encode())
    ours = request.payload()
    assert_covers(ours, recorded["payload"])
    for part in ("user", "container", "channel"):
        assert keys(ours[part]) == keys(recorded["payload"][part]), part
    assert keys(ours["actions"][0]) == keys(recorded["payload"]["actions"][0])


async def test_slash_command_matches_the_recording(emulator: TestClient, fake_bot: FakeBot):
    await emulator.post("/_emulator/slash", json={"user": STAFF.user_id, "text": "help"})
    ours = fake_bot.forms()[0]
    recorded = fixture("slash_command.json")
    assert ours.content_type == recorded["content_type"]
    recorded_fields = {pair.split("=", 1)[0] for pair in recorded["body"].split("&")}
    assert not recorded_fields - {"enterprise_id", "enterprise_name"} - set(ours.form())


async def test_post_message_answer_matches_the_documented_example(emulator: TestClient):
    ours = await call(emulator, "chat.postMessage", channel=await channel_id(emulator), text="hi")
    recorded = fixture("web_chat_postMessage_ok.json")
    assert keys(ours) == keys(recorded)
    # The documented example is a classic bot_message with attachments; an app's post has neither.
    assert_covers(ours["message"], recorded["message"], {"subtype", "username", "attachments"})


async def test_users_info_answer_matches_the_documented_example(emulator: TestClient):
    ours = await call(emulator, "users.info", user=ENGINEER.user_id)
    recorded = fixture("web_users_info.json")
    assert_covers(ours["user"], recorded["user"])
    assert_covers(ours["user"]["profile"], recorded["user"]["profile"])


async def test_error_answer_matches_the_documented_example(emulator: TestClient):
    assert await call(emulator, "users.info", user="U0NOBODY00") == fixture("web_error_user_not_found.json")


async def test_conversations_replies_answer_matches_the_documented_example(emulator: TestClient):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "island")
    for text in ("one island", "two island"):
        await post_as(emulator, channel, ENGINEER, text, root["ts"])
    ours = await call(emulator, "conversations.replies", channel=channel, ts=root["ts"], limit=2)
    recorded = fixture("web_conversations_replies.json")
    assert keys(ours) == keys(recorded)
    # last_read and unread_count are the calling user's read state; a bot token has none.
    assert_covers(ours["messages"][0], recorded["messages"][0], {"last_read", "unread_count"})
    assert_covers(ours["messages"][1], recorded["messages"][1])
