"""The "Follow-up issue" button on a Slack incident message, through the Slack and GitHub emulators:
Slack's signed ``block_actions`` in, the router, the follow-up use case, GitHub's API, and the
message updated with ``chat.update``. Pressed twice at once by an engineer: one issue, one link in
the thread, one work note, and the message shows it; site staff are told no and nothing is filed."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_stack import JANE, STAFF, SlackStack, start_slack_stack
from testkit.fakes import FakeTracker

from bot.slack.blocks import KEY_PREFIX, action_of
from emulators import github


def card_in(thread: dict[str, Any]) -> dict[str, Any]:
    """The incident card among the bot's replies (its first block carries the key ``card:...``)."""
    [card] = [
        r
        for r in thread["replies"]
        if r.get("bot_id")
        and any(str(b.get("block_id", "")).startswith(KEY_PREFIX + "card:") for b in r["blocks"] or [])
    ]
    return card


def followup_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "followup"
    ]


def followup_field(card: dict[str, Any]) -> str | None:
    for block in card["blocks"]:
        for field in block.get("fields", ()):
            head, _, value = field["text"].partition("\n")
            if head == "*Follow-up*":
                return str(value)
    return None


async def hub_get(hub: Any, path: str) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.get(str(hub.make_url(path))) as response:
            assert response.status == 200
            return await response.json()


async def press(stack: SlackStack, channel: str, card: dict[str, Any], user: str) -> Any:
    return await stack.driver(
        "POST",
        "/_emulator/actions",
        {"channel": channel, "message_ts": card["ts"], "action_id": "followup", "user": user},
    )


async def test_a_slack_press_files_one_follow_up_and_the_slack_message_shows_it(tmp_path, aiohttp_server):
    hub = await aiohttp_server(github.create_github_emulator(github.GitHubEmulatorConfig()))
    stack = await start_slack_stack(
        tmp_path,
        github_api_url=str(hub.make_url("")).rstrip("/"),
        github_token=github.DEFAULT_TOKEN,
        github_repo=github.DEFAULT_REPO,
    )
    try:
        channel = await stack.channel()
        posted = await stack.post(channel, "Kiosk at 508 prints blank labels")
        await stack.drain()
        card = card_in(await stack.thread(channel, posted["ts"]))
        [button] = followup_buttons(card)
        correlation_id = f"slack:{channel}:{posted['ts']}"
        assert action_of(button["action_id"], button["value"]) == ("followup", {"inquiry": correlation_id})
        assert followup_field(card) is None

        # Site staff press first: told no, privately; nothing is filed and the button stays.
        refused = await press(stack, channel, card, STAFF.user_id)
        assert refused["status"] == 200
        await stack.drain()
        told = await stack.driver("GET", f"/_emulator/ephemeral?user={STAFF.user_id}")
        assert [e["text"] for e in told] == ["Only engineers on the duty roster can file follow-up issues."]
        assert await hub_get(hub, "/_emulator/issues") == []
        assert followup_buttons(card_in(await stack.thread(channel, posted["ts"])))

        # An engineer presses twice at once (a double click, or Slack retrying): one issue.
        answers = await asyncio.gather(*(press(stack, channel, card, JANE.user_id) for _ in range(2)))
        assert [a["status"] for a in answers] == [200, 200]
        await stack.drain()
        issues = await hub_get(hub, "/_emulator/issues")
        assert len(issues) == 1
        [issue] = issues
        url = str(hub.make_url(f"/{github.DEFAULT_REPO}/issues/1"))
        tracker = stack.runtime.tracker
        assert isinstance(tracker, FakeTracker)
        [record] = tracker.incidents.values()
        assert issue["title"] == f"{record.number}: Kiosk at 508 prints blank labels"
        assert issue["assignees"] == ["jane-doe"]
        assert any(line.startswith("Slack thread: ") for line in issue["body"].splitlines())
        told = await stack.driver("GET", f"/_emulator/ephemeral?user={JANE.user_id}")
        assert sorted(e["text"] for e in told) == [
            "Filing a follow-up issue in GitHub.",
            "The follow-up issue is being filed.",
        ]

        thread = await stack.thread(channel, posted["ts"])
        links = [
            r["text"] for r in thread["replies"] if r.get("bot_id") and "Follow-up issue #1" in r["text"]
        ]
        assert links == [f"Follow-up issue #1 (GitHub, assigned to jane-doe): {url}"]
        notes = [n for n in tracker.notes(record.sys_id) if "Follow-up issue" in n]
        assert notes == [f"Follow-up issue #1 filed in GitHub (asked for by Jane Doe): {url}"]
        card = card_in(thread)
        assert followup_field(card) == f"<{url}|#1> (open)"
        assert followup_buttons(card) == []
        assert len(await stack.calls("chat.update")) >= 1
    finally:
        await stack.close()
