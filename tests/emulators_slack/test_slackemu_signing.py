"""Request signing: Slack's published test vector, and every delivery verified independently."""

from __future__ import annotations

import time

from aiohttp.test_utils import TestClient
from slackemu_support import SECRET, STAFF, FakeBot, call, channel_id, fixture, post_as, slack_signature

from emulators.slack import signature


def test_signer_reproduces_slacks_published_test_vector():
    vector = fixture("signature_test_vector.json")
    assert signature(vector["signing_secret"], vector["timestamp"], vector["body"]) == vector["signature"]
    assert (
        signature(vector["signing_secret"], vector["timestamp"], vector["body"].encode())
        == vector["signature"]
    )


def test_independent_verifier_agrees_with_the_published_vector():
    vector = fixture("signature_test_vector.json")
    computed = slack_signature(vector["signing_secret"], vector["timestamp"], vector["body"].encode())
    assert computed == vector["signature"]


async def test_every_kind_of_delivery_is_signed_on_its_raw_body(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    button = {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "action_id": "ack"}
    card = await call(
        emulator,
        "chat.postMessage",
        channel=channel,
        text="x",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    await emulator.post(
        "/_emulator/actions", json={"channel": channel, "message_ts": card["ts"], "action_id": "ack"}
    )
    await emulator.post("/_emulator/slash", json={"channel": channel, "user": STAFF.user_id, "text": "help"})
    await emulator.post("/_emulator/redeliver", json={"event_id": posted["event_id"]})
    assert len(fake_bot.received) == 4
    for request in fake_bot.received:
        assert request.signature_valid(SECRET)
        assert not request.signature_valid("some-other-secret")


async def test_signature_timestamp_is_the_wall_clock_not_the_simulated_one(
    emulator: TestClient, fake_bot: FakeBot
):
    before = int(time.time())
    await post_as(emulator, await channel_id(emulator), STAFF, "hello")
    after = int(time.time())
    [request] = fake_bot.received
    assert before <= int(request.headers["X-Slack-Request-Timestamp"]) <= after
    assert request.json()["event_time"] < before - 3600  # the event itself is in simulated 2022


async def test_driver_can_send_bad_skewed_or_missing_signatures(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    await post_as(emulator, channel, STAFF, "bad", signature="invalid")
    await post_as(emulator, channel, STAFF, "old", timestamp_skew_s=-301)
    await post_as(emulator, channel, STAFF, "unsigned", signature="missing")
    bad, old, unsigned = fake_bot.received
    assert not bad.signature_valid()
    assert old.signature_valid() and int(old.headers["X-Slack-Request-Timestamp"]) <= int(time.time()) - 301
    assert "X-Slack-Signature" not in unsigned.headers
