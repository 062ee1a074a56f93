"""The Web API at /api/{method}: Slack's envelope, auth, argument forms, errors and pagination."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from slackemu_support import AUTH, ENGINEER, GO_LIVE, STAFF, TOKEN, call, channel_id, post_as, service


async def test_missing_token_answers_not_authed_with_http_200(emulator: TestClient):
    resp = await emulator.post("/api/auth.test")
    assert resp.status == 200
    assert await resp.json() == {"ok": False, "error": "not_authed"}


async def test_wrong_token_answers_invalid_auth(emulator: TestClient):
    resp = await emulator.post("/api/auth.test", headers={"Authorization": "Bearer xoxb-not-ours"})
    assert resp.status == 200
    assert await resp.json() == {"ok": False, "error": "invalid_auth"}


async def test_token_is_also_accepted_as_a_form_argument(emulator: TestClient):
    resp = await emulator.post("/api/auth.test", data={"token": TOKEN})
    body = await resp.json()
    assert body["ok"] is True
    assert body["user_id"] == service(emulator).config.bot_user_id
    assert body["bot_id"] == service(emulator).config.bot_id


async def test_answers_are_json_with_charset(emulator: TestClient):
    resp = await emulator.post("/api/auth.test", headers=AUTH)
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_unknown_method_is_404_with_slack_error(emulator: TestClient):
    resp = await emulator.post("/api/chat.postMessages", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"] == "unknown_method"


async def test_post_message_with_form_body_and_get_with_query_reach_the_same_thread(emulator: TestClient):
    channel = await channel_id(emulator)
    resp = await emulator.post(
        "/api/chat.postMessage", data={"channel": channel, "text": "form post"}, headers=AUTH
    )
    posted = await resp.json()
    assert posted["ok"] is True
    resp = await emulator.get(
        "/api/conversations.replies", params={"channel": channel, "ts": posted["ts"]}, headers=AUTH
    )
    replies = await resp.json()
    assert [m["text"] for m in replies["messages"]] == ["form post"]


async def test_post_message_answer_has_ts_channel_and_the_bot_message(emulator: TestClient):
    channel = await channel_id(emulator)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*INC0010001*"}}]
    answer = await call(emulator, "chat.postMessage", channel=channel, text="INC0010001", blocks=blocks)
    config = service(emulator).config
    assert answer["ok"] is True
    assert answer["channel"] == channel
    message = answer["message"]
    assert message["ts"] == answer["ts"]
    assert message["bot_id"] == config.bot_id
    assert message["user"] == config.bot_user_id
    assert message["bot_profile"]["app_id"] == config.app_id
    assert "subtype" not in message  # an app's post is no classic bot_message
    assert message["blocks"][0]["text"] == blocks[0]["text"]
    assert message["blocks"][0]["block_id"]  # Slack fills in missing block ids


async def test_post_message_by_channel_name_posts_to_that_channel(emulator: TestClient):
    answer = await call(emulator, "chat.postMessage", channel="#" + GO_LIVE, text="by name")
    assert answer["channel"] == await channel_id(emulator)


async def test_ts_values_are_strings_and_strictly_increasing(emulator: TestClient):
    channel = await channel_id(emulator)
    seen = []
    for n in range(5):
        answer = await call(emulator, "chat.postMessage", channel=channel, text=f"n{n}")
        seen.append(answer["ts"])
    assert all(isinstance(ts, str) and len(ts.split(".")[1]) == 6 for ts in seen)
    assert [float(ts) for ts in seen] == sorted({float(ts) for ts in seen})


async def test_slack_errors_come_back_as_http_200_ok_false(emulator: TestClient):
    channel = await channel_id(emulator)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("chat.postMessage", {"channel": "C0NOSUCH00", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": channel}, "no_text"),
        (
            "chat.postMessage",
            {"channel": channel, "text": "x", "blocks": "not json"},
            "invalid_blocks_format",
        ),
        ("chat.postMessage", {"channel": channel, "text": "x", "blocks": [{"no": "type"}]}, "invalid_blocks"),
        ("chat.update", {"channel": channel, "ts": "1.000001", "text": "x"}, "message_not_found"),
        ("conversations.replies", {"channel": channel}, "invalid_arguments"),
        ("conversations.replies", {"channel": channel, "ts": "1651590000.999999"}, "thread_not_found"),
        ("conversations.info", {"channel": "C0NOSUCH00"}, "channel_not_found"),
        ("users.info", {"user": "U0NOBODY00"}, "user_not_found"),
        ("users.lookupByEmail", {"email": "nobody@example.org"}, "users_not_found"),
        ("conversations.list", {"cursor": "%%%"}, "invalid_cursor"),
    ]
    for method, args, error in cases:
        answer = await call(emulator, method, **args)
        assert answer["ok"] is False, method
        assert answer["error"] == error, (method, answer)


async def test_invalid_arguments_names_the_missing_field(emulator: TestClient):
    answer = await call(emulator, "conversations.replies", channel=await channel_id(emulator))
    assert answer["response_metadata"]["messages"] == ["[ERROR] missing required field: ts"]


async def test_bad_json_and_non_object_json_get_slack_errors(emulator: TestClient):
    headers = AUTH | {"Content-Type": "application/json"}
    resp = await emulator.post("/api/auth.test", data=b"{not json", headers=headers)
    assert (resp.status, (await resp.json())["error"]) == (200, "invalid_json")
    resp = await emulator.post("/api/auth.test", data=b"[1, 2]", headers=headers)
    assert (resp.status, (await resp.json())["error"]) == (200, "json_not_object")


async def test_oversized_button_value_is_invalid_blocks_with_the_pointer(emulator: TestClient):
    button = {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "value": "v" * 2001}
    answer = await call(
        emulator,
        "chat.postMessage",
        channel=await channel_id(emulator),
        text="x",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    assert answer["error"] == "invalid_blocks"
    assert "/blocks/0/value" in answer["errors"][0]


async def test_bot_outside_the_channel_gets_not_in_channel_until_it_joins(make_emulator, fake_bot):
    client = await make_emulator(fake_bot.url, bot_is_member=False)
    channel = await channel_id(client)
    assert (await call(client, "chat.postMessage", channel=channel, text="x"))["error"] == "not_in_channel"
    assert (await call(client, "conversations.history", channel=channel))["error"] == "not_in_channel"
    joined = await call(client, "conversations.join", channel=channel)
    assert joined["ok"] is True and "warning" not in joined
    assert joined["channel"]["is_member"] is True
    assert (await call(client, "chat.postMessage", channel=channel, text="x"))["ok"] is True


async def test_join_when_already_in_the_channel_is_ok_with_a_warning(emulator: TestClient):
    joined = await call(emulator, "conversations.join", channel=await channel_id(emulator))
    assert joined["ok"] is True
    assert joined["warning"] == "already_in_channel"
    assert joined["response_metadata"]["warnings"] == ["already_in_channel"]


async def test_bot_join_delivers_member_joined_channel(make_emulator, fake_bot):
    client = await make_emulator(fake_bot.url, bot_is_member=False)
    channel = await channel_id(client)
    await call(client, "conversations.join", channel=channel)
    await service(client).drain()
    [joined] = fake_bot.events("member_joined_channel")
    assert joined["event"]["user"] == service(client).config.bot_user_id
    assert joined["event"]["channel"] == channel


async def test_conversations_list_pages_with_next_cursor(make_emulator, fake_bot):
    names = tuple(f"site-{n:02d}" for n in range(7))
    client = await make_emulator(fake_bot.url, channels=names)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        args = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        resp = await client.get("/api/conversations.list", params=args, headers=AUTH)
        page = await resp.json()
        assert page["ok"] is True
        assert len(page["channels"]) <= 3
        seen += [c["name"] for c in page["channels"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(names)


async def test_conversations_replies_pages_oldest_first_with_the_parent_first(emulator: TestClient):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "Kiosk 3 is frozen")
    for n in range(5):
        await post_as(emulator, channel, ENGINEER if n % 2 else STAFF, f"reply {n}", root["ts"])
    texts: list[str] = []
    cursor = ""
    while True:
        args = {"channel": channel, "ts": root["ts"], "limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = await (await emulator.get("/api/conversations.replies", params=args, headers=AUTH)).json()
        texts += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert texts == ["Kiosk 3 is frozen"] + [f"reply {n}" for n in range(5)]


async def test_replies_carry_thread_ts_and_parent_user_id_and_the_parent_counts_them(emulator: TestClient):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "Printer offline")
    await post_as(emulator, channel, ENGINEER, "Looking into it", root["ts"])
    page = await call(emulator, "conversations.replies", channel=channel, ts=root["ts"])
    parent, reply = page["messages"]
    assert parent["thread_ts"] == parent["ts"] == root["ts"]
    assert parent["reply_count"] == 1
    assert parent["reply_users"] == [ENGINEER.user_id]
    assert reply["thread_ts"] == root["ts"] != reply["ts"]
    assert reply["parent_user_id"] == STAFF.user_id


async def test_replies_by_a_replys_ts_return_the_whole_thread(emulator: TestClient):
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "root")
    reply = await post_as(emulator, channel, ENGINEER, "reply", root["ts"])
    page = await call(emulator, "conversations.replies", channel=channel, ts=reply["ts"])
    assert [m["ts"] for m in page["messages"]] == [root["ts"], reply["ts"]]


async def test_reply_to_an_unknown_thread_ts_is_accepted_and_listed_under_that_root(emulator: TestClient):
    channel = await channel_id(emulator)
    unseen = "1651590000.000042"
    answer = await call(emulator, "chat.postMessage", channel=channel, text="INC0010009", thread_ts=unseen)
    assert answer["ok"] is True
    assert answer["message"]["thread_ts"] == unseen
    roots = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    [root] = roots
    assert root["ts"] == unseen and root["missing"] is True
    assert [r["text"] for r in root["replies"]] == ["INC0010009"]


async def test_history_lists_roots_newest_first_and_pages(emulator: TestClient):
    channel = await channel_id(emulator)
    for n in range(3):
        root = await post_as(emulator, channel, STAFF, f"root {n}")
    await post_as(emulator, channel, ENGINEER, "reply hidden from history", root["ts"])
    first = await call(emulator, "conversations.history", channel=channel, limit=2)
    assert [m["text"] for m in first["messages"]] == ["root 2", "root 1"]
    assert first["has_more"] is True
    rest = await call(
        emulator,
        "conversations.history",
        channel=channel,
        limit=2,
        cursor=first["response_metadata"]["next_cursor"],
    )
    assert [m["text"] for m in rest["messages"]] == ["root 0"]
    assert rest["response_metadata"]["next_cursor"] == ""


async def test_update_changes_the_bots_own_message_only(emulator: TestClient):
    channel = await channel_id(emulator)
    posted = await call(emulator, "chat.postMessage", channel=channel, text="New")
    updated = await call(emulator, "chat.update", channel=channel, ts=posted["ts"], text="Acknowledged")
    assert updated["ok"] is True and updated["ts"] == posted["ts"] and updated["text"] == "Acknowledged"
    person = await post_as(emulator, channel, STAFF, "mine")
    refused = await call(emulator, "chat.update", channel=channel, ts=person["ts"], text="hijack")
    assert refused["error"] == "cant_update_message"
    view = await (await emulator.get(f"/_emulator/channels/{channel}/messages")).json()
    assert (
        view[0]["text"] == "Acknowledged"
        and view[0]["edited"]["user"] == service(emulator).config.bot_user_id
    )


async def test_users_info_has_the_email_and_lookup_by_email_finds_the_same_user(emulator: TestClient):
    info = await (
        await emulator.get("/api/users.info", params={"user": ENGINEER.user_id}, headers=AUTH)
    ).json()
    assert info["user"]["profile"]["email"] == ENGINEER.email
    assert info["user"]["real_name"] == ENGINEER.name
    found = await (
        await emulator.get("/api/users.lookupByEmail", params={"email": ENGINEER.email.upper()}, headers=AUTH)
    ).json()
    assert found["user"]["id"] == ENGINEER.user_id


async def test_ephemeral_is_recorded_for_that_user_only(emulator: TestClient):
    channel = await channel_id(emulator)
    answer = await call(
        emulator, "chat.postEphemeral", channel=channel, user=STAFF.user_id, text="Pick a site"
    )
    assert answer["ok"] is True and answer["message_ts"]
    mine = await (await emulator.get("/_emulator/ephemeral", params={"user": STAFF.user_id})).json()
    assert [e["text"] for e in mine] == ["Pick a site"]
    assert await (await emulator.get("/_emulator/ephemeral", params={"user": ENGINEER.user_id})).json() == []
    assert (await call(emulator, "chat.postEphemeral", channel=channel, user="U0NOBODY00", text="x"))[
        "error"
    ] == "user_not_found"


async def test_permalink_points_at_the_console_and_opens_the_channel(emulator: TestClient):
    channel = await channel_id(emulator)
    posted = await call(emulator, "chat.postMessage", channel=channel, text="x")
    link = (await call(emulator, "chat.getPermalink", channel=channel, message_ts=posted["ts"]))["permalink"]
    assert link.endswith(f"/archives/{channel}/p{posted['ts'].replace('.', '')}")
    resp = await emulator.get("/" + link.split("/", 3)[3], allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"/?channel={channel}#{posted['ts']}"


async def test_views_open_is_accepted_and_recorded(emulator: TestClient):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Pick a site"}, "blocks": []}
    answer = await call(emulator, "views.open", trigger_id="1.2.abc", view=json.dumps(view))
    assert answer["ok"] is True and answer["view"]["id"].startswith("V")
    [recorded] = await (await emulator.get("/_emulator/views")).json()
    assert recorded["trigger_id"] == "1.2.abc" and recorded["known_trigger"] is False
    assert (await call(emulator, "views.open", trigger_id="1.2.abc", view={"type": "home"}))["error"] == (
        "invalid_arguments"
    )


async def test_create_validates_names_like_slack(emulator: TestClient):
    assert (await call(emulator, "conversations.create", name="Go Live"))["error"] == "invalid_name_specials"
    assert (await call(emulator, "conversations.create", name="x" * 81))["error"] == "invalid_name_maxlength"
    assert (await call(emulator, "conversations.create", name=GO_LIVE))["error"] == "name_taken"
    created = await call(emulator, "conversations.create", name="go-live-508")
    assert created["ok"] is True and created["channel"]["is_member"] is True
