"""POST /slack/events: Slack's signature on the raw body, its recorded payloads accepted or set aside
as they should be, and bad input refused with a 4xx and a reason (never a 5xx)."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier as SdkVerifier
from slack_support import FORM, JSON, SECRET, SlackBot, fixture, message_event, signed, slack_signature

from bot.slack.signature import SignatureRejected, SignatureVerifier, signature_of

VECTOR = fixture("signature_test_vector.json")


def test_published_signature_test_vector_is_reproduced():
    assert (
        signature_of(VECTOR["signing_secret"], VECTOR["timestamp"], VECTOR["body"].encode())
        == VECTOR["signature"]
    )


def test_published_test_vector_verifies_at_its_own_time_and_not_an_hour_later():
    headers = {"X-Slack-Request-Timestamp": VECTOR["timestamp"], "X-Slack-Signature": VECTOR["signature"]}
    at = int(VECTOR["timestamp"])
    SignatureVerifier((VECTOR["signing_secret"],), clock=lambda: at + 299).verify(
        headers, VECTOR["body"].encode()
    )
    with pytest.raises(SignatureRejected):
        SignatureVerifier((VECTOR["signing_secret"],), clock=lambda: at + 3600).verify(
            headers, VECTOR["body"].encode()
        )
    # The SDK's own verifier agrees on the same vector (the algorithm is Slack's, not ours).
    sdk = SdkVerifier(VECTOR["signing_secret"], clock=type("C", (), {"now": lambda self: float(at)})())
    assert sdk.is_valid(VECTOR["body"], VECTOR["timestamp"], VECTOR["signature"])


@pytest.mark.parametrize("skew", [-301, 301, 3600, -86400])
def test_window_is_300_seconds_both_ways(skew):
    body = b"{}"
    now = 1_700_000_000
    timestamp = str(now + skew)
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SECRET, timestamp, body),
    }
    with pytest.raises(SignatureRejected, match="window"):
        SignatureVerifier((SECRET,), clock=lambda: now).verify(headers, body)
    inside = str(now + (299 if skew > 0 else -299))
    headers = {
        "X-Slack-Request-Timestamp": inside,
        "X-Slack-Signature": slack_signature(SECRET, inside, body),
    }
    SignatureVerifier((SECRET,), clock=lambda: now).verify(headers, body)


async def test_url_verification_is_answered_with_its_challenge(slack_bot: SlackBot):
    body = fixture("event_url_verification.json")
    status, answer = await slack_bot.post(body)
    assert status == 200 and answer == {"challenge": body["challenge"]}
    assert await slack_bot.stored() == []


@pytest.mark.parametrize(
    ("case", "headers", "at"),
    [
        ("unsigned", {"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""}, None),
        ("wrong secret", None, None),
        ("stale", None, -301),
        ("future", None, 301),
        ("junk timestamp", {"X-Slack-Request-Timestamp": "soon"}, None),
        ("junk signature", {"X-Slack-Signature": "v0=zz"}, None),
    ],
)
async def test_unsigned_stale_future_or_wrongly_signed_requests_get_401(
    slack_bot: SlackBot, case, headers, at
):
    body = message_event("Kiosk at 508 shows E42")
    secret = "not-the-secret" if case == "wrong secret" else SECRET
    status, answer = await slack_bot.post(
        body, secret=secret, at=None if at is None else time.time() + at, headers=headers
    )
    assert status == 401, case
    assert answer["ok"] is False and answer["error"]
    assert await slack_bot.stored() == []


async def test_signature_covers_the_exact_bytes(slack_bot: SlackBot):
    raw = json.dumps(message_event("Kiosk at 508")).encode()
    headers = {"Content-Type": JSON}
    timestamp = str(int(time.time()))
    headers |= {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SECRET, timestamp, raw),
    }
    reencoded = json.dumps(json.loads(raw), indent=1).encode()  # same JSON, other bytes
    response = await slack_bot.client.post("/slack/events", data=reencoded, headers=headers)
    assert response.status == 401


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"{not json", JSON, "not valid JSON"),
        (b"[1, 2]", JSON, "JSON object"),
        (
            b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "channel": "C111", "ts": NaN}}',
            JSON,
            "JSON",
        ),
        (b'{"type": "event_callback", "event_id": 7, "event": {}}', JSON, "event_id"),
        (json.dumps(message_event("x", channel="not a channel")).encode(), JSON, "channel"),
        (json.dumps(message_event("x", ts="yesterday")).encode(), JSON, "ts"),
        (json.dumps(message_event(["a list"])).encode(), JSON, "text"),
        (json.dumps(message_event("nul \u0000 inside")).encode(), JSON, "NUL"),
        (b"payload=%7Bnot%20json", FORM, "JSON"),
        (b"payload=%FF%FE", FORM, "UTF-8"),
        (b"\xff\xfe=1", FORM, "UTF-8"),
        (b"hello=world", FORM, "neither payload nor command"),
        (b"command=%2Fgolive&user_id=U1&channel_id=C1&command=%2Fother", FORM, "repeated"),
        (b"command=%2Fgolive&user_id=not%20an%20id&channel_id=C1", FORM, "Slack ids"),
        (
            "payload=" + quote(json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})),
            FORM,
            "channel",
        ),
    ],
)
async def test_unreadable_bodies_get_400_with_a_reason(slack_bot: SlackBot, body, content_type, reason):
    status, answer = await slack_bot.post(body, content_type)
    assert status == 400, answer
    assert reason.lower() in answer["error"].lower()
    assert await slack_bot.stored() == []


async def test_other_content_types_get_415(slack_bot: SlackBot):
    status, _ = await slack_bot.post(b"hello", "text/plain")
    assert status == 415


async def test_a_body_over_a_mebibyte_gets_413(slack_bot: SlackBot):
    raw = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    response = await slack_bot.client.post("/slack/events", data=io.BytesIO(raw), headers=signed(raw))
    assert response.status == 413


@pytest.mark.parametrize(
    "body",
    [
        {"type": "app_rate_limited", "token": "x", "team_id": "T1", "minute_rate_limited": 1518467820},
        {
            "type": "event_callback",
            "event_id": "Ev9",
            "event": {"type": "reaction_added", "user": "U1", "item": {}},
        },
        {
            "type": "event_callback",
            "event_id": "Ev9",
            "event": {"type": "channel_created", "channel": {"id": "C9"}},
        },
        {
            "type": "event_callback",
            "event_id": "Ev9",
            "event": {"type": "member_joined_channel", "user": "U1", "channel": "C9"},
        },
        message_event("edited topic", subtype="channel_topic"),
        fixture("event_message_app_bot.json"),
        fixture("event_message_classic_bot_message.json"),
        fixture("event_message_channel_join.json"),
    ],
    ids=[
        "app_rate_limited",
        "reaction",
        "channel_created",
        "member_joined",
        "topic",
        "app_bot",
        "classic_bot",
        "join",
    ],
)
async def test_events_the_bot_does_not_handle_get_200_and_nothing_is_stored(slack_bot: SlackBot, body):
    status, _ = await slack_bot.post(body)
    assert status == 200
    assert await slack_bot.stored() == []


async def test_the_bots_own_edits_and_deletions_are_not_stored(slack_bot: SlackBot):
    edit = message_event("x", subtype="message_changed")
    edit["event"]["message"] = {"type": "message", "text": "card", "ts": "1651590000.000100", "bot_id": "B1"}
    deletion = message_event("x", subtype="message_deleted", deleted_ts="1651590000.000100")
    deletion["event"]["previous_message"] = {"text": "card", "ts": "1651590000.000100", "bot_id": "B1"}
    for body in (edit, deletion):
        assert (await slack_bot.post(body))[0] == 200
    assert await slack_bot.stored() == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("event_message_channel.json", "event"),
        ("event_message_thread_reply.json", "event"),
        ("event_message_changed.json", "event"),
        ("event_message_deleted.json", "event"),
        ("event_app_mention.json", "event"),
    ],
)
async def test_recorded_events_the_bot_handles_are_stored_before_the_200(slack_bot: SlackBot, name, kind):
    body = fixture(name)
    status, answer = await slack_bot.post(body)
    assert status == 200 and answer is None
    [row] = await slack_bot.stored()
    assert row.dedupe_key == f"slack:event:{body['event_id']}"
    assert row.payload == {"kind": kind, "body": body}


async def test_recorded_block_actions_form_body_is_stored(slack_bot: SlackBot):
    recorded = fixture("interactivity_block_actions.json")
    status, _ = await slack_bot.post(recorded["body"], FORM)
    assert status == 200
    [row] = await slack_bot.stored()
    assert row.payload == {"kind": "interactive", "body": recorded["payload"]}
    assert row.dedupe_key == "slack:action:111.222.valid"


async def test_recorded_slash_command_is_stored_with_its_fields(slack_bot: SlackBot):
    recorded = fixture("slash_command.json")
    status, answer = await slack_bot.post(recorded["body"], FORM)
    assert status == 200 and answer is None  # an empty 200: the answer comes through response_url
    [row] = await slack_bot.stored()
    assert row.payload["kind"] == "command"
    assert row.payload["body"]["command"] == "/hello-world" and row.payload["body"]["text"] == "Hi"


async def test_a_redelivery_with_the_same_event_id_is_absorbed(slack_bot: SlackBot):
    body = fixture("event_message_channel.json")
    for retry in ("", "1", "2", "3"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        assert (await slack_bot.post(body, headers=headers))[0] == 200
    assert len(await slack_bot.stored()) == 1


async def test_view_submissions_and_other_interactions_are_acknowledged_and_not_stored(slack_bot: SlackBot):
    payload = {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "state": {"values": {}}}}
    status, _ = await slack_bot.post("payload=" + quote(json.dumps(payload)), FORM)
    assert status == 200
    assert await slack_bot.stored() == []
