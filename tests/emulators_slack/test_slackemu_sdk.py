"""The official slack_sdk AsyncWebClient against the emulator, as the product's adapter will use it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slackemu_support import ENGINEER, STAFF, TOKEN, channel_id, post_as, service


def sdk(client: TestClient) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=str(client.make_url("/api/")))


async def test_auth_test_names_the_bot(emulator: TestClient):
    answer = await sdk(emulator).auth_test()
    config = service(emulator).config
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == (
        config.bot_user_id,
        config.bot_id,
        config.team_id,
    )


async def test_post_update_and_read_back_a_thread(emulator: TestClient):
    web = sdk(emulator)
    channel = await channel_id(emulator)
    root = await post_as(emulator, channel, STAFF, "Kiosk 3 frozen")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*INC0010001* New"}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}, "action_id": "ack"}
            ],
        },
    ]
    posted = await web.chat_postMessage(
        channel=channel, thread_ts=root["ts"], text="INC0010001", blocks=blocks
    )
    assert posted["message"]["thread_ts"] == root["ts"]
    updated = await web.chat_update(
        channel=channel, ts=posted["ts"], text="INC0010001 Acknowledged", blocks=blocks[:1]
    )
    assert updated["ts"] == posted["ts"]
    replies = await web.conversations_replies(channel=channel, ts=root["ts"])
    assert [m["text"] for m in replies["messages"]] == ["Kiosk 3 frozen", "INC0010001 Acknowledged"]
    assert replies["messages"][1]["blocks"][0]["text"]["text"] == "*INC0010001* New"


async def test_users_info_gives_the_email(emulator: TestClient):
    answer = await sdk(emulator).users_info(user=ENGINEER.user_id)
    assert answer["user"]["profile"]["email"] == ENGINEER.email


async def test_ok_false_raises_slack_api_error_with_the_slack_error(emulator: TestClient):
    with pytest.raises(SlackApiError) as raised:
        await sdk(emulator).users_info(user="U0NOBODY00")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "user_not_found"


async def test_rate_limit_raises_slack_api_error_with_retry_after(emulator: TestClient):
    await emulator.post("/_emulator/faults", json={"rate_limit": {"limit": 0, "retry_after": 12}})
    with pytest.raises(SlackApiError) as raised:
        await sdk(emulator).chat_postMessage(channel=await channel_id(emulator), text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["retry-after"] in ("12", ["12"])
    assert raised.value.response["error"] == "ratelimited"


async def test_wrong_token_raises_invalid_auth(emulator: TestClient):
    web = AsyncWebClient(token="xoxb-wrong", base_url=str(emulator.make_url("/api/")))
    with pytest.raises(SlackApiError) as raised:
        await web.auth_test()
    assert raised.value.response["error"] == "invalid_auth"


async def test_conversations_list_and_join_through_the_sdk(emulator: TestClient):
    web = sdk(emulator)
    listed = await web.conversations_list(limit=1)
    assert len(listed["channels"]) == 1 and listed["response_metadata"]["next_cursor"]
    joined = await web.conversations_join(channel=listed["channels"][0]["id"])
    assert joined["warning"] == "already_in_channel"
