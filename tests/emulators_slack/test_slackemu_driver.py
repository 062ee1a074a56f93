"""The driver API: channels, people, posting as people, edits, deletes, actions, slash, redelivery."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.test_utils import TestClient
from slackemu_support import (
    ENGINEER,
    GO_LIVE,
    MANAGER,
    SIM_NOW,
    STAFF,
    FakeBot,
    Received,
    call,
    channel_id,
    post_as,
    service,
)

from emulators.slack import BOT_TIMEOUT, BOT_UNREACHABLE

BUTTONS = [
    {
        "type": "actions",
        "block_id": "incident",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "incident.ack",
                "value": "INC0010001",
                "style": "primary",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Scheduling Support"},
                "action_id": "incident.route",
                "value": "tier2",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "eCheck-in Vet Facing Apps"},
                "action_id": "incident.route",
                "value": "product",
            },
        ],
    }
]


async def test_channels_are_the_configured_ones_with_their_ids(emulator: TestClient):
    body = await (await emulator.get("/_emulator/channels")).json()
    names = [(c["name"], c["is_archived"]) for c in body["channels"]]
    assert names == [(GO_LIVE, False), ("check-in-experience-apm", False)]
    assert all(c["id"].startswith("C") for c in body["channels"])
    api_ids = {c["id"] for c in (await call(emulator, "conversations.list"))["channels"]}
    assert api_ids == {c["id"] for c in body["channels"]}


async def test_people_have_slack_ids_emails_and_roles(emulator: TestClient):
    people = await (await emulator.get("/_emulator/people")).json()
    assert [(p["name"], p["role"]) for p in people] == [
        ("Pat Frontdesk", "site-staff"),
        ("Sam Clerk", "site-staff"),
        ("Jane Doe", "engineer"),
        ("Morgan Manager", "manager"),
    ]
    assert all(p["id"].startswith("U") and "@" in p["email"] for p in people)


async def test_a_post_delivers_the_event_callback_slack_would_send(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    result = await post_as(emulator, channel, STAFF, "Kiosk 3 is frozen")
    assert result["status"] == 200 and result["delivered"] is True
    [body] = fake_bot.events("message")
    config = service(emulator).config
    assert body["type"] == "event_callback"
    assert body["event_id"] == result["event_id"] and body["event_id"].startswith("Ev")
    assert body["team_id"] == config.team_id and body["api_app_id"] == config.app_id
    assert body["event_time"] == int(SIM_NOW.timestamp())
    assert body["authorizations"][0]["user_id"] == config.bot_user_id
    event = body["event"]
    assert (event["type"], event["channel"], event["user"], event["text"]) == (
        "message",
        channel,
        STAFF.user_id,
        "Kiosk 3 is frozen",
    )
    assert event["ts"] == event["event_ts"] == result["ts"]
    assert event["channel_type"] == "channel"
    assert "thread_ts" not in event and "subtype" not in event and "bot_id" not in event
    assert event["blocks"][0]["type"] == "rich_text"


async def test_a_reply_carries_thread_ts_and_parent_user_id(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "Printer offline")
    reply = await post_as(emulator, channel, ENGINEER, "On it", root["ts"])
    event = fake_bot.events("message")[-1]["event"]
    assert event["ts"] == reply["ts"] != event["thread_ts"] == root["ts"]
    assert event["parent_user_id"] == STAFF.user_id


async def test_a_reply_to_a_reply_lands_in_the_root_thread(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "root")
    first = await post_as(emulator, channel, ENGINEER, "first", root["ts"])
    await post_as(emulator, channel, STAFF, "second", first["ts"])
    assert fake_bot.events("message")[-1]["event"]["thread_ts"] == root["ts"]


async def test_messages_view_lists_roots_oldest_first_with_replies(emulator: TestClient):
    channel = await channel_id(emulator)
    first = await post_as(emulator, channel, STAFF, "first")
    await post_as(emulator, channel, STAFF, "second")
    await post_as(emulator, channel, ENGINEER, "reply", first["ts"])
    await call(
        emulator,
        "chat.postMessage",
        channel=channel,
        text="INC0010001",
        thread_ts=first["ts"],
        blocks=BUTTONS,
    )
    view = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    assert [m["text"] for m in view] == ["first", "second"]
    replies = view[0]["replies"]
    assert [r["text"] for r in replies] == ["reply", "INC0010001"]
    assert replies[1]["bot_id"] == service(emulator).config.bot_id and replies[1]["blocks"][0]["block_id"]


async def test_mentioning_the_bot_also_delivers_app_mention(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    bot_user = service(emulator).config.bot_user_id
    result = await post_as(emulator, channel, STAFF, f"<@{bot_user}> help")
    [mention] = fake_bot.events("app_mention")
    assert mention["event"]["ts"] == result["ts"]
    assert mention["event_id"] == result["app_mention_event_id"] != result["event_id"]
    assert mention["event"]["blocks"][0]["elements"][0]["elements"][0] == {
        "type": "user",
        "user_id": bot_user,
    }


async def test_edit_delivers_message_changed_with_the_original_ts_inside(
    emulator: TestClient, fake_bot: FakeBot
):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    resp = await emulator.post(
        f"/_emulator/channels/{channel}/messages/{posted['ts']}/edit", json={"text": "Kiosk 4"}
    )
    assert (await resp.json())["status"] == 200
    [body] = fake_bot.events("message", "message_changed")
    event = body["event"]
    assert event["hidden"] is True
    assert event["message"]["ts"] == event["previous_message"]["ts"] == posted["ts"] != event["ts"]
    assert (event["message"]["text"], event["previous_message"]["text"]) == ("Kiosk 4", "Kiosk 3 frozen")
    assert event["message"]["edited"]["user"] == STAFF.user_id
    view = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    assert view[0]["text"] == "Kiosk 4" and "edited" in view[0]


async def test_delete_delivers_message_deleted_and_marks_the_message(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "oops")
    resp = await emulator.post(f"/_emulator/channels/{channel}/messages/{posted['ts']}/delete")
    assert (await resp.json())["status"] == 200
    [body] = fake_bot.events("message", "message_deleted")
    assert body["event"]["deleted_ts"] == posted["ts"]
    assert body["event"]["previous_message"]["text"] == "oops"
    view = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    assert view[0]["deleted"] is True and view[0]["text"] == ""


async def test_pressing_a_button_delivers_form_encoded_block_actions(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    card = await call(
        emulator, "chat.postMessage", channel=channel, text="INC0010001", thread_ts=root["ts"], blocks=BUTTONS
    )
    resp = await emulator.post(
        "/_emulator/actions",
        json={
            "channel": channel,
            "message_ts": card["ts"],
            "action_id": "incident.route",
            "value": "product",
            "user": ENGINEER.user_id,
        },
    )
    assert (await resp.json())["status"] == 200
    [request] = fake_bot.forms()
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.raw.startswith(b"payload=")
    payload = json.loads(unquote(request.raw.decode().removeprefix("payload=")))
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == ENGINEER.user_id
    assert payload["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": channel, "name": GO_LIVE}
    assert payload["message"]["ts"] == card["ts"] and payload["message"]["thread_ts"] == root["ts"]
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "incident.route",
        "incident",
        "product",
        "button",
    )
    assert action["text"]["text"] == "eCheck-in Vet Facing Apps"
    assert payload["trigger_id"] and payload["response_url"].startswith(str(emulator.make_url("/")))


async def test_actions_default_to_the_first_matching_button_and_an_engineer(
    emulator: TestClient, fake_bot: FakeBot
):
    channel = await channel_id(emulator)
    card = await call(emulator, "chat.postMessage", channel=channel, text="INC0010001", blocks=BUTTONS)
    await emulator.post(
        "/_emulator/actions",
        json={"channel": channel, "message_ts": card["ts"], "action_id": "incident.route"},
    )
    payload = fake_bot.forms()[0].payload()
    assert payload["actions"][0]["value"] == "tier2"
    assert payload["user"]["id"] == ENGINEER.user_id


async def test_action_on_a_missing_button_is_404(emulator: TestClient):
    channel = await channel_id(emulator)
    card = await call(emulator, "chat.postMessage", channel=channel, text="INC0010001", blocks=BUTTONS)
    resp = await emulator.post(
        "/_emulator/actions", json={"channel": channel, "message_ts": card["ts"], "action_id": "nope"}
    )
    assert resp.status == 404
    resp = await emulator.post(
        "/_emulator/actions",
        json={"channel": channel, "message_ts": card["ts"], "action_id": "incident.ack", "value": "other"},
    )
    assert resp.status == 404


async def test_select_menus_deliver_the_selected_option(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    picker = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "Which site?"},
        "accessory": {
            "type": "static_select",
            "action_id": "site.pick",
            "placeholder": {"type": "plain_text", "text": "Site"},
            "options": [
                {"text": {"type": "plain_text", "text": "508 Atlanta"}, "value": "508"},
                {"text": {"type": "plain_text", "text": "528A7 Bath"}, "value": "528A7"},
            ],
        },
    }
    card = await call(emulator, "chat.postMessage", channel=channel, text="Which site?", blocks=[picker])
    await emulator.post(
        "/_emulator/actions",
        json={
            "channel": channel,
            "message_ts": card["ts"],
            "action_id": "site.pick",
            "value": "528A7",
            "user": STAFF.user_id,
        },
    )
    [action] = fake_bot.forms()[0].payload()["actions"]
    assert action["type"] == "static_select"
    assert action["selected_option"]["value"] == "528A7"


async def test_response_url_can_replace_the_original_message(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    card = await call(emulator, "chat.postMessage", channel=channel, text="INC0010001", blocks=BUTTONS)
    await emulator.post(
        "/_emulator/actions", json={"channel": channel, "message_ts": card["ts"], "action_id": "incident.ack"}
    )
    response_url = fake_bot.forms()[0].payload()["response_url"]
    resp = await emulator.post(
        "/" + response_url.split("/", 3)[3], json={"replace_original": True, "text": "Acknowledged by Jane"}
    )
    assert await resp.json() == {"ok": True}
    view = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    assert view[0]["text"] == "Acknowledged by Jane"


async def test_slash_command_is_plain_form_fields(emulator: TestClient, fake_bot: FakeBot):
    async def answer(request: Received) -> web.StreamResponse:
        return web.json_response({"response_type": "ephemeral", "text": "You are on duty today"})

    fake_bot.on_request = answer
    channel = await channel_id(emulator)
    resp = await emulator.post(
        "/_emulator/slash", json={"user": MANAGER.user_id, "channel": channel, "text": "duty"}
    )
    result = await resp.json()
    assert result["status"] == 200 and result["body"]["text"] == "You are on duty today"
    [request] = fake_bot.forms()
    form = request.form()
    assert form["command"] == "/golive" and form["text"] == "duty"
    assert (form["channel_id"], form["channel_name"]) == (channel, GO_LIVE)
    assert (form["user_id"], form["user_name"]) == (MANAGER.user_id, "morgan.manager")
    assert {"token", "team_id", "response_url", "trigger_id"} <= set(form)
    assert b"command=%2Fgolive" in request.raw
    ephemeral = await (await emulator.get("/_emulator/ephemeral", params={"user": MANAGER.user_id})).json()
    assert [e["text"] for e in ephemeral] == ["You are on duty today"]


async def test_redelivery_repeats_the_event_id_with_retry_headers(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    resp = await emulator.post(
        "/_emulator/redeliver",
        json={"event_id": posted["event_id"], "retry_num": 2, "retry_reason": "http_timeout"},
    )
    assert (await resp.json())["status"] == 200
    first, again = fake_bot.received
    assert again.raw == first.raw  # the very same body, byte for byte
    assert "X-Slack-Retry-Num" not in first.headers
    assert (again.headers["X-Slack-Retry-Num"], again.headers["X-Slack-Retry-Reason"]) == (
        "2",
        "http_timeout",
    )
    assert again.signature_valid()


async def test_redelivery_under_a_new_event_id_has_no_retry_headers(emulator: TestClient, fake_bot: FakeBot):
    channel = await channel_id(emulator)
    posted = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    resp = await emulator.post(
        "/_emulator/redeliver", json={"event_id": posted["event_id"], "new_event_id": True}
    )
    result = await resp.json()
    first, duplicate = fake_bot.events("message")
    assert duplicate["event_id"] == result["event_id"] != first["event_id"]
    assert duplicate["event"] == first["event"]
    assert "X-Slack-Retry-Num" not in fake_bot.received[-1].headers


async def test_redelivery_of_an_unknown_event_is_404(emulator: TestClient):
    resp = await emulator.post("/_emulator/redeliver", json={"event_id": "EvNOPE"})
    assert resp.status == 404


async def test_a_bot_that_is_down_gets_a_clear_status_and_the_post_is_kept(make_emulator):
    client = await make_emulator("http://127.0.0.1:9/slack/events")
    channel = await channel_id(client)
    result = await post_as(client, channel, STAFF, "anyone there?")
    assert result["status"] == BOT_UNREACHABLE
    view = await (await client.get(f"/_emulator/channels/{channel}/messages")).json()
    assert [m["text"] for m in view] == ["anyone there?"]


async def test_a_bot_slower_than_three_seconds_counts_as_timed_out(make_emulator, fake_bot: FakeBot):
    release = asyncio.Event()

    async def slow(request: Received) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    fake_bot.on_request = slow
    client = await make_emulator(fake_bot.url, ack_timeout_s=0.05)
    result = await post_as(client, await channel_id(client), STAFF, "slow")
    release.set()
    assert result["status"] == BOT_TIMEOUT


async def test_failed_events_are_retried_automatically_when_configured(make_emulator, fake_bot: FakeBot):
    answers = [500, 200]

    async def flaky(request: Received) -> web.StreamResponse:
        return web.Response(status=answers.pop(0))

    fake_bot.on_request = flaky
    client = await make_emulator(fake_bot.url, retry_delays_s=(0.0, 0.0, 0.0))
    result = await post_as(client, await channel_id(client), STAFF, "hello")
    assert result["status"] == 500
    await service(client).drain()
    first, retry = fake_bot.received
    assert retry.raw == first.raw
    assert (retry.headers["X-Slack-Retry-Num"], retry.headers["X-Slack-Retry-Reason"]) == ("1", "http_error")
    assert answers == []  # no third attempt after the 200


async def test_no_events_come_from_a_channel_the_bot_is_not_in(make_emulator, fake_bot: FakeBot):
    client = await make_emulator(fake_bot.url, bot_is_member=False)
    result = await post_as(client, await channel_id(client), STAFF, "hello?")
    assert result["delivered"] is False and result["status"] is None
    assert fake_bot.received == []


async def test_bot_echo_of_its_own_post_has_bot_id_and_bot_profile_and_no_subtype(
    make_emulator, fake_bot: FakeBot
):
    client = await make_emulator(fake_bot.url, echo_bot_messages=True)
    channel = await channel_id(client)
    posted = await call(client, "chat.postMessage", channel=channel, text="INC0010001")
    await service(client).drain()
    [echo] = fake_bot.events("message")
    config = service(client).config
    assert echo["event"]["ts"] == posted["ts"]
    assert echo["event"]["bot_id"] == config.bot_id and echo["event"]["bot_profile"]["id"] == config.bot_id
    assert "subtype" not in echo["event"]


async def test_a_person_joining_delivers_member_joined_channel_and_channel_join(
    emulator: TestClient, fake_bot: FakeBot
):
    channel = await channel_id(emulator)
    resp = await emulator.post("/_emulator/channels", json={"name": "go-live-508"})
    new_channel = (await resp.json())["id"]
    service(emulator).state.channels[new_channel].members.remove(STAFF.user_id)
    result = await (
        await emulator.post(f"/_emulator/channels/{new_channel}/members", json={"user": STAFF.user_id})
    ).json()
    assert result["delivered"] is True and channel != new_channel
    assert fake_bot.events("member_joined_channel")[0]["event"]["user"] == STAFF.user_id
    assert fake_bot.events("message", "channel_join")[0]["event"]["channel"] == new_channel


async def test_url_verification_checks_the_bot_echoes_the_challenge(emulator: TestClient, fake_bot: FakeBot):
    async def echo(request: Received) -> web.StreamResponse:
        return web.json_response({"challenge": request.json()["challenge"]})

    fake_bot.on_request = echo
    result = await (await emulator.post("/_emulator/url_verification")).json()
    assert result["status"] == 200 and result["challenge_ok"] is True
    assert fake_bot.received[0].json()["type"] == "url_verification"


async def test_driver_mistakes_get_4xx_with_a_reason(emulator: TestClient):
    channel = await channel_id(emulator)
    cases: list[tuple[str, Any, int]] = [
        (f"/_emulator/channels/{channel}/messages", {"user": STAFF.user_id}, 400),
        (f"/_emulator/channels/{channel}/messages", {"user": "U0NOBODY00", "text": "x"}, 400),
        (
            f"/_emulator/channels/{channel}/messages",
            {"user": STAFF.user_id, "text": "x", "thread_ts": "abc"},
            400,
        ),
        ("/_emulator/channels/C0NOSUCH00/messages", {"user": STAFF.user_id, "text": "x"}, 404),
        (f"/_emulator/channels/{channel}/messages/1.000001/edit", {"text": "x"}, 404),
        ("/_emulator/actions", {"channel": channel}, 400),
        ("/_emulator/redeliver", {"event_id": "Ev1", "retry_num": 9}, 400),
        (f"/_emulator/channels/{channel}/messages", ["not", "an", "object"], 400),
    ]
    for path, body, status in cases:
        resp = await emulator.post(path, json=body)
        assert resp.status == status, (path, body)
        assert (await resp.json())["error"]["message"]


async def test_reset_empties_the_workspace(emulator: TestClient):
    channel = await channel_id(emulator)
    await post_as(emulator, channel, STAFF, "x")
    await emulator.post("/_emulator/faults", json={"status": 500})
    await emulator.post("/_emulator/reset")
    assert await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json() == []
    assert await (await emulator.get("/_emulator/faults")).json() == {}
    assert (await (await emulator.get("/_emulator/calls")).json())["calls"] == []


async def test_state_dir_keeps_messages_and_ts_order_across_a_restart(
    make_emulator, fake_bot: FakeBot, tmp_path
):
    first = await make_emulator(fake_bot.url, state_dir=tmp_path)
    channel = await channel_id(first)
    before = await post_as(first, channel, STAFF, "before restart")
    await first.close()
    second = await make_emulator(fake_bot.url, state_dir=tmp_path)
    after = await post_as(second, channel, STAFF, "after restart")
    view = await (await second.get(f"/_emulator/channels/{channel}/messages")).json()
    assert [m["text"] for m in view] == ["before restart", "after restart"]
    assert float(after["ts"]) > float(before["ts"])
