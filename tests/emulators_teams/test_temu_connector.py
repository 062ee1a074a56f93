"""The emulator as a bot sees it: activities delivered to a fake bot, replies through the connector."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from testkit.stack import wait_for
from testkit.teams_emulator import (
    BACKUP,
    ENGINEER,
    STAFF,
    FakeBot,
    conversation_url,
    create_channel,
    general_channel,
    post_as,
    threads,
)

CARD = "application/vnd.microsoft.card.adaptive"


def card(text: str, *verbs: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text}],
        "actions": [
            {"type": "Action.Execute", "title": v, "verb": v, "data": {"incident": "INC1"}} for v in verbs
        ],
    }


async def test_driver_post_delivers_a_teams_shaped_channel_message(emulator, fake_bot: FakeBot):
    channel = await create_channel(emulator, "Go Live - 508 Atlanta")
    fake_bot.on_activity = None
    answer = await post_as(
        emulator, channel, STAFF, "<at>Go Live Bridge</at> check-in kiosk is down, ask <at>Bea Backup</at>"
    )

    assert answer["status"] == 201
    activity = fake_bot.of_type("message")[-1]
    team = await (await emulator.get("/_emulator/channels")).json()
    assert activity["id"] == answer["id"] and activity["id"].isdigit()
    assert activity["conversation"]["id"] == f"{channel};messageid={answer['id']}"
    assert activity["conversation"]["conversationType"] == "channel"
    assert activity["serviceUrl"] == str(emulator.make_url("/"))
    assert activity["channelId"] == "msteams"
    assert activity["from"]["aadObjectId"] == STAFF.aad_object_id and activity["from"]["id"].startswith("29:")
    assert activity["recipient"]["id"].startswith("28:")
    assert activity["channelData"]["team"] == {"id": team["teamThreadId"], "aadGroupId": team["teamId"]}
    assert activity["channelData"]["channel"] == {"id": channel}
    assert activity["channelData"]["tenant"]["id"]
    assert activity["timestamp"] == "2022-05-03T15:00:00.000Z"
    mentions = [e for e in activity["entities"] if e["type"] == "mention"]
    assert [m["mentioned"]["name"] for m in mentions] == ["Go Live Bridge", "Bea Backup"]
    assert mentions[0]["mentioned"]["id"] == activity["recipient"]["id"]
    assert mentions[1]["text"] == "<at>Bea Backup</at>"
    assert activity["attachments"][0]["contentType"] == "text/html"


async def test_bot_status_is_returned_and_post_recorded_when_bot_is_down(make_emulator):
    client = await make_emulator("http://127.0.0.1:9/api/messages")
    channel = await general_channel(client)
    answer = await post_as(client, channel, STAFF, "anyone there?")
    assert answer["status"] == 502
    assert [t["text"] for t in await threads(client, channel)] == ["anyone there?"]


async def test_connector_reply_to_messageid_conversation_lands_in_that_thread(emulator, fake_bot: FakeBot):
    channel = await create_channel(emulator, "Go Live - 528A7 Bath")

    async def echo(activity: dict[str, Any]) -> None:
        if activity["type"] == "message":
            resp = await fake_bot.reply(activity, f"got: {activity['text']}")
            assert resp.status == 201

    fake_bot.on_activity = echo
    root = await post_as(emulator, channel, STAFF, "first")
    reply = await post_as(emulator, channel, ENGINEER, "looking", reply_to=root["id"])

    assert reply["rootId"] == root["id"]
    [thread] = await threads(emulator, channel)
    assert thread["id"] == root["id"]
    assert [(r["from"]["name"], r["text"]) for r in thread["replies"]] == [
        ("Go Live Bridge", "got: first"),
        ("Alex Engineer", "looking"),
        ("Go Live Bridge", "got: looking"),
    ]
    assert fake_bot.of_type("message")[1]["conversation"]["id"] == f"{channel};messageid={root['id']}"


async def test_send_without_messageid_makes_a_new_root_post_and_reply_to_id_is_ignored(emulator, fake_bot):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "root")
    url = conversation_url(str(emulator.make_url("/")), channel)
    async with fake_bot.session.post(
        url, json={"type": "message", "text": "new post", "replyToId": root["id"]}
    ) as r:
        assert r.status == 201
        new_id = (await r.json())["id"]
    posts = await threads(emulator, channel)
    assert [(p["id"], p["text"], p["replies"]) for p in posts] == [
        (root["id"], "root", []),
        (new_id, "new post", []),
    ]


async def test_percent_encoded_and_plain_conversation_ids_both_work(emulator, fake_bot):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "root")
    conv = f"{channel};messageid={root['id']}"
    encoded = f"/v3/conversations/{quote(conv, safe='')}/activities"
    plain = f"/v3/conversations/{conv}/activities"
    assert "%3B" in encoded and "%40" in encoded
    for path in (encoded, plain):
        resp = await emulator.post(path, json={"type": "message", "text": path[:20]})
        assert resp.status == 201
    [thread] = await threads(emulator, channel)
    assert len(thread["replies"]) == 2


async def test_create_conversation_starts_a_thread_and_returns_the_messageid_conversation(emulator):
    channel = await create_channel(emulator, "Go Live - 640 Palo Alto")
    body = {
        "isGroup": True,
        "activity": {"type": "message", "text": "Channel open", "inputHint": "acceptingInput"},
        "channelData": {"channel": {"id": channel}, "onBehalfOf": []},
    }
    resp = await emulator.post("/v3/conversations", json=body)
    assert resp.status == 201
    created = await resp.json()
    assert created["id"] == f"{channel};messageid={created['activityId']}"
    assert created["serviceUrl"] == str(emulator.make_url("/"))
    resp = await emulator.post(
        f"/v3/conversations/{quote(created['id'], safe='')}/activities", json={"text": "hi"}
    )
    assert resp.status == 201
    [thread] = await threads(emulator, channel)
    assert thread["id"] == created["activityId"] and thread["text"] == "Channel open"
    assert [r["text"] for r in thread["replies"]] == ["hi"]


async def test_update_activity_replaces_the_card_in_place(emulator):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "help")
    conv = f"{channel};messageid={root['id']}"
    first = {"type": "message", "attachments": [{"contentType": CARD, "content": card("New", "ack")}]}
    resp = await emulator.post(conversation_url("/", conv, root["id"]), json=first)
    card_id = (await resp.json())["id"]
    second = {"type": "message", "attachments": [{"contentType": CARD, "content": card("Acknowledged")}]}
    resp = await emulator.put(conversation_url("/", conv, card_id), json=second)
    assert resp.status == 200 and (await resp.json())["id"] == card_id

    [thread] = await threads(emulator, channel)
    [bot_post] = thread["replies"]
    assert bot_post["id"] == card_id and bot_post["lastModified"]
    assert bot_post["attachments"][0]["content"]["body"][0]["text"] == "Acknowledged"


async def test_bot_cannot_update_a_person_post_and_unknown_ids_are_teams_errors(emulator):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "help")
    resp = await emulator.put(
        conversation_url("/", channel, root["id"]), json={"type": "message", "text": "x"}
    )
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "NotEnoughPermissions"
    resp = await emulator.post(conversation_url("/", "19:nope@thread.tacv2"), json={"text": "x"})
    assert resp.status == 404
    assert await resp.json() == {
        "error": {"code": "ConversationNotFound", "message": "Conversation not found."}
    }
    resp = await emulator.post(conversation_url("/", channel), json={"type": "message"})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "BadArgument"


async def test_people_edits_and_deletes_reach_the_bot_and_show_in_threads(emulator, fake_bot):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "kiosk down")
    reply = await post_as(emulator, channel, STAFF, "typo", reply_to=root["id"])
    path = f"/_emulator/channels/{quote(channel, safe='')}/messages"

    resp = await emulator.patch(f"{path}/{root['id']}", json={"text": "kiosk 3 down"})
    assert (await resp.json())["status"] == 201
    resp = await emulator.delete(f"{path}/{reply['id']}")
    assert (await resp.json())["status"] == 201

    edit, delete = fake_bot.received[-2:]
    assert (edit["type"], edit["channelData"]["eventType"], edit["id"], edit["text"]) == (
        "messageUpdate",
        "editMessage",
        root["id"],
        "kiosk 3 down",
    )
    assert (delete["type"], delete["channelData"]["eventType"], delete["id"]) == (
        "messageDelete",
        "softDeleteMessage",
        reply["id"],
    )
    assert delete["conversation"]["id"] == f"{channel};messageid={root['id']}"
    [thread] = await threads(emulator, channel)
    assert thread["text"] == "kiosk 3 down" and thread["lastModified"]
    assert thread["replies"][0]["deleted"] is True and thread["replies"][0]["text"] == ""


async def test_bot_delete_activity_marks_its_post_deleted(emulator):
    channel = await general_channel(emulator)
    resp = await emulator.post(conversation_url("/", channel), json={"type": "message", "text": "oops"})
    post_id = (await resp.json())["id"]
    resp = await emulator.delete(conversation_url("/", channel, post_id))
    assert resp.status == 200
    [post] = await threads(emulator, channel)
    assert post["deleted"] is True


async def test_action_execute_press_sends_the_invoke_and_replacement_card_updates_the_post(
    emulator, fake_bot
):
    channel = await general_channel(emulator)
    root = await post_as(emulator, channel, STAFF, "help")
    conv = f"{channel};messageid={root['id']}"
    resp = await emulator.post(
        conversation_url("/", conv),
        json={"type": "message", "attachments": [{"contentType": CARD, "content": card("INC1", "ack")}]},
    )
    card_id = (await resp.json())["id"]
    replacement = card("INC1 acknowledged by Alex")

    async def answer(activity: dict[str, Any]) -> web.StreamResponse | None:
        if activity["type"] == "invoke":
            return web.json_response({"statusCode": 200, "type": CARD, "value": replacement})
        return None

    fake_bot.on_activity = answer
    resp = await emulator.post(
        "/_emulator/actions", json={"activityId": card_id, "verb": "ack", "data": {"x": 1}}
    )
    result = await resp.json()

    assert result == {"status": 200, "body": {"statusCode": 200, "type": CARD, "value": replacement}}
    invoke = fake_bot.of_type("invoke")[-1]
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["value"] == {
        "action": {"type": "Action.Execute", "verb": "ack", "data": {"x": 1}},
        "trigger": "manual",
    }
    assert invoke["replyToId"] == card_id
    assert invoke["conversation"]["id"] == conv
    assert invoke["from"]["aadObjectId"] == ENGINEER.aad_object_id  # default presser: first engineer
    [thread] = await threads(emulator, channel)
    assert thread["replies"][0]["attachments"][0]["content"] == replacement


async def test_action_press_can_name_the_person_and_unknown_card_is_404(emulator, fake_bot):
    channel = await general_channel(emulator)
    resp = await emulator.post(
        conversation_url("/", channel),
        json={"type": "message", "attachments": [{"contentType": CARD, "content": card("x", "ack")}]},
    )
    card_id = (await resp.json())["id"]
    who = {"name": BACKUP.name, "aadObjectId": BACKUP.aad_object_id}
    resp = await emulator.post(
        "/_emulator/actions", json={"activityId": card_id, "verb": "ack", "data": {}, "from": who}
    )
    assert (await resp.json())["status"] == 201
    assert fake_bot.of_type("invoke")[-1]["from"]["name"] == BACKUP.name
    resp = await emulator.post("/_emulator/actions", json={"activityId": "123", "verb": "ack", "data": {}})
    assert resp.status == 404


async def test_connector_429_injection_answers_throttled_with_retry_after(emulator):
    channel = await general_channel(emulator)
    resp = await emulator.post(
        "/_emulator/faults", json={"connector_throttle": {"count": 1, "retry_after": 2}}
    )
    assert (await resp.json())["connector_throttle"] == {"count": 1, "retry_after": 2.0}
    resp = await emulator.post(conversation_url("/", channel), json={"type": "message", "text": "x"})
    assert resp.status == 429 and resp.headers["Retry-After"] == "2"
    assert (await resp.json())["error"]["code"] == "Throttled"
    resp = await emulator.post(conversation_url("/", channel), json={"type": "message", "text": "x"})
    assert resp.status == 201


async def test_connector_requires_a_bearer_token_when_the_bot_has_an_app_id(make_emulator, fake_bot):
    client = await make_emulator(fake_bot.url, bot_app_id="app-123")
    channel = await general_channel(client)
    resp = await client.post(conversation_url("/", channel), json={"type": "message", "text": "x"})
    assert resp.status == 401
    resp = await client.post(
        conversation_url("/", channel),
        json={"type": "message", "text": "x"},
        headers={"Authorization": "Bearer t"},
    )
    assert resp.status == 201


async def test_members_endpoints_answer_teams_channel_accounts(emulator):
    channel = await general_channel(emulator)
    conv = quote(channel, safe="")
    resp = await emulator.get(f"/v3/conversations/{conv}/members/{STAFF.aad_object_id}")
    member = await resp.json()
    assert member["aadObjectId"] == STAFF.aad_object_id and member["id"].startswith("29:")
    resp = await emulator.get(f"/v3/conversations/{conv}/members/29:unknown")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "ConversationNotFound"
    resp = await emulator.get(f"/v3/conversations/{conv}/pagedmembers", params={"pageSize": "3"})
    page = await resp.json()
    assert len(page["members"]) == 3 and page["continuationToken"] == "3"
    resp = await emulator.get(f"/v3/conversations/{conv}/pagedmembers", params={"continuationToken": "3"})
    assert (await resp.json())["continuationToken"] is None


async def test_team_conversations_list_the_channels(emulator):
    named = await create_channel(emulator, "Go Live - 508 Atlanta")
    general = await general_channel(emulator)
    resp = await emulator.get(f"/v3/teams/{quote(general, safe='')}/conversations")
    assert (await resp.json())["conversations"] == [
        {"id": general, "name": None},
        {"id": named, "name": "Go Live - 508 Atlanta"},
    ]


async def test_graph_channel_create_tells_the_bot_channel_created(emulator, fake_bot):
    channel = await create_channel(emulator, "Go Live - 508 Atlanta")

    async def told():  # the emulator tells the bot after answering the Graph call
        return fake_bot.of_type("conversationUpdate")

    [update] = await wait_for(told, timeout=10, interval=0.01)
    assert update["channelData"]["eventType"] == "channelCreated"
    assert update["channelData"]["channel"] == {"id": channel, "name": "Go Live - 508 Atlanta"}


async def test_channels_view_marks_go_live_channels_and_archived_state(emulator):
    channel = await create_channel(emulator, "Go Live - 528A7 Bath VA")
    team_id = (await (await emulator.get("/_emulator/channels")).json())["teamId"]
    resp = await emulator.post(f"/v1.0/teams/{team_id}/channels/{quote(channel, safe='')}/archive")
    assert resp.status == 202
    view = await (await emulator.get("/_emulator/channels")).json()
    general, go_live = view["channels"]
    assert general["goLive"] is False and general["station"] is None and general["name"] == "General"
    assert go_live == {
        "id": channel,
        "name": "Go Live - 528A7 Bath VA",
        "state": "archived",
        "goLive": True,
        "station": "528A7",
        "general": False,
    }


async def test_personal_chat_messages_and_bot_replies_form_a_transcript(emulator, fake_bot):
    async def echo(activity: dict[str, Any]) -> None:
        if activity["type"] == "message":
            await fake_bot.reply(activity, "Commands: help, status")

    fake_bot.on_activity = echo
    resp = await emulator.post(
        "/_emulator/personal/messages", json={"from": {"aadObjectId": ENGINEER.aad_object_id}, "text": "help"}
    )
    sent = await resp.json()
    assert sent["status"] == 201 and sent["conversationId"].startswith("a:")
    activity = fake_bot.received[-1]
    assert activity["conversation"]["conversationType"] == "personal"
    assert "team" not in activity["channelData"]
    transcript = await (await emulator.get(f"/_emulator/personal/{ENGINEER.aad_object_id}")).json()
    assert [m["text"] for m in transcript["messages"]] == ["help", "Commands: help, status"]


async def test_create_conversation_with_one_member_opens_a_personal_chat(emulator):
    body = {
        "isGroup": False,
        "members": [{"id": STAFF.aad_object_id}],
        "activity": {"type": "message", "text": "hi"},
    }
    resp = await emulator.post("/v3/conversations", json=body)
    created = await resp.json()
    assert resp.status == 201 and created["id"].startswith("a:") and created["activityId"]
    transcript = await (await emulator.get(f"/_emulator/personal/{STAFF.aad_object_id}")).json()
    assert transcript["conversationId"] == created["id"]
    assert [m["text"] for m in transcript["messages"]] == ["hi"]


async def test_install_sends_team_member_added_with_the_bot(emulator, fake_bot):
    resp = await emulator.post("/_emulator/install", json={})
    assert (await resp.json())["status"] == 201
    update = fake_bot.received[-1]
    assert update["type"] == "conversationUpdate"
    assert update["channelData"]["eventType"] == "teamMemberAdded"
    assert update["membersAdded"] == [{"id": update["recipient"]["id"]}]
    assert update["conversation"]["id"] == update["channelData"]["team"]["id"]


async def test_raw_activity_is_delivered_as_given_and_its_thread_accepts_replies(emulator, fake_bot):
    channel = await general_channel(emulator)
    raw = {
        "type": "message",
        "id": "1651590000001",
        "text": "recorded payload",
        "serviceUrl": str(emulator.make_url("/")),
        "channelId": "msteams",
        "from": {"id": "29:x", "name": "Recorded"},
        "conversation": {"id": f"{channel};messageid=1651590000000"},
        "recipient": {"id": "28:bot"},
    }
    fake_bot.on_activity = lambda a: _json({"ok": True})
    resp = await emulator.post("/_emulator/activities", json=raw)
    assert await resp.json() == {"status": 200, "body": {"ok": True}}
    assert fake_bot.received[-1] == raw
    fake_bot.on_activity = None
    resp = await emulator.post(
        conversation_url("/", raw["conversation"]["id"], raw["id"]), json={"text": "reply"}
    )
    assert resp.status == 201
    [thread] = await threads(emulator, channel)
    assert thread["id"] == "1651590000000" and [r["text"] for r in thread["replies"]] == ["reply"]


async def _json(body: Any) -> web.StreamResponse:
    return web.json_response(body)


async def test_state_dir_keeps_channels_and_posts_across_restarts(make_emulator, tmp_path):
    first = await make_emulator(state_dir=tmp_path)
    channel = await create_channel(first, "Go Live - 508 Atlanta")
    await post_as(first, channel, STAFF, "persisted")
    await first.close()
    second = await make_emulator(state_dir=tmp_path)
    assert [t["text"] for t in await threads(second, channel)] == ["persisted"]
    keys = await (await second.get("/v1/.well-known/keys")).json()
    assert keys["keys"][0]["kid"]


async def test_people_lists_role_and_duty_from_the_callable(make_emulator):
    client = await make_emulator(
        duty_for=lambda aad, now: "primary" if aad == ENGINEER.aad_object_id else None
    )
    people = await (await client.get("/_emulator/people")).json()
    by_name = {p["name"]: p for p in people}
    assert by_name["Alex Engineer"]["duty"] == "primary" and by_name["Alex Engineer"]["role"] == "engineer"
    assert by_name["Pat Frontdesk"] == {
        "name": "Pat Frontdesk",
        "aadObjectId": STAFF.aad_object_id,
        "id": by_name["Pat Frontdesk"]["id"],
        "role": "site-staff",
        "duty": None,
    }


async def test_console_page_and_vendored_renderer_are_served(emulator):
    resp = await emulator.get("/")
    assert resp.status == 200 and "adaptivecards.min.js" in await resp.text()
    resp = await emulator.get("/_emulator/static/adaptivecards.min.js")
    assert resp.status == 200 and "MIT License" in (await resp.text())[:2000]
