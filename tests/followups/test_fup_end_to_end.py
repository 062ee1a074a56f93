"""End to end through the Teams, ServiceNow and GitHub emulators: an engineer presses "Follow-up
issue" on an incident card (twice at once, once more later, with GitHub losing the first create's
answer); one GitHub issue exists, its link is in the thread and in a work note, the card shows it."""

from __future__ import annotations

import asyncio

from fup_support import drive
from testkit.stack import ROSTER, STAFF, start_stack, wait_for
from testkit.sync import bot_replies, card_of, new_inquiry

from emulators import github
from emulators.teams import Person

JANE = ROSTER.engineers["jane"]
ENGINEER = Person(JANE.name, JANE.aad_object_id, "engineer")


def follow_up_button(card: dict) -> dict:
    """The button in the card's own actions (alert posts) or in an ActionSet of its body (incidents)."""
    in_body = (a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"])
    return next(a for a in (*card.get("actions", ()), *in_body) if a["title"] == "Follow-up issue")


def fact(card: dict, title: str) -> str | None:
    for element in card["body"]:
        for item in element.get("facts", ()):
            if item["title"] == title:
                return str(item["value"])
    return None


async def test_a_follow_up_pressed_three_times_is_one_github_issue_linked_in_thread_and_work_note(
    tmp_path, aiohttp_server
):
    hub = await aiohttp_server(github.create_github_emulator(github.GitHubEmulatorConfig()))
    stack = await start_stack(
        tmp_path,
        github_api_url=str(hub.make_url("")).rstrip("/"),
        github_token=github.DEFAULT_TOKEN,
        github_repo=github.DEFAULT_REPO,
        followup_labels="go-live,follow-up",
    )
    try:
        inquiry = await new_inquiry(stack, "Kiosk prints blank labels")
        thread = await stack.thread(inquiry.channel, inquiry.root)
        card = card_of(next(r for r in thread["replies"] if r["id"] == inquiry.card_id))
        button = follow_up_button(card)
        # GitHub commits the first create, then the answer is lost: the retry must find it, not file again.
        await drive(hub, "POST", "/_emulator/faults", {"drop_reply": {"count": 1, "methods": ["POST"]}})
        answers = await asyncio.gather(
            *(stack.press(inquiry.card_id, button["verb"], button["data"], ENGINEER) for _ in range(2))
        )
        assert [a["body"]["statusCode"] for a in answers] == [200, 200]

        async def linked() -> str | None:
            replies = bot_replies(await stack.thread(inquiry.channel, inquiry.root))
            return next((r["text"] for r in replies if "Follow-up issue #1" in (r.get("text") or "")), None)

        text = await wait_for(linked)
        issues = await drive(hub, "GET", "/_emulator/issues")
        assert len(issues) == 1
        creates = [c for c in await drive(hub, "GET", "/_emulator/calls") if c["method"] == "POST"]
        assert len(creates) == 1  # the one create, whose answer was lost; the retry found it
        assert (await drive(hub, "GET", "/_emulator/faults")) == {}  # the drop fault was used up
        [issue] = issues
        url = str(hub.make_url(f"/{github.DEFAULT_REPO}/issues/1"))
        assert text == f"Follow-up issue #1 (GitHub, assigned to jane-doe): {url}"
        assert issue["title"] == f"{inquiry.number}: Kiosk prints blank labels"
        assert sorted(issue["labels"]) == ["follow-up", "go-live"] and issue["assignees"] == ["jane-doe"]
        assert f"golive-followup: {inquiry.number}" in issue["body"].splitlines()
        assert f"Follow-up of ServiceNow incident {inquiry.number}: " in issue["body"]
        assert "https://teams.microsoft.com/l/message/" in issue["body"]

        async def noted() -> list[str]:
            return [
                e["value"]
                for e in await stack.journal(inquiry.sys_id)
                if e["element"] == "work_notes" and url in e["value"]
            ]

        assert await wait_for(noted) == [f"Follow-up issue #1 filed in GitHub (asked for by Jane Doe): {url}"]

        async def card_shows_it() -> str | None:
            thread = await stack.thread(inquiry.channel, inquiry.root)
            shown = card_of(next(r for r in thread["replies"] if r["id"] == inquiry.card_id))
            value = fact(shown, "Follow-up")
            return value if value and "#1" in value else None

        assert await wait_for(card_shows_it) == f"[#1]({url}) (open)"
        again = await stack.press(inquiry.card_id, button["verb"], button["data"], ENGINEER)
        assert again["body"]["statusCode"] == 200
        staff = await stack.press(inquiry.card_id, button["verb"], button["data"], STAFF)
        assert staff["body"]["statusCode"] == 403
        assert len(await drive(hub, "GET", "/_emulator/issues")) == 1
        replies = bot_replies(await stack.thread(inquiry.channel, inquiry.root))
        assert sum("Follow-up issue #1" in (r.get("text") or "") for r in replies) == 1
    finally:
        await stack.close()


async def test_an_alert_cards_follow_up_pressed_twice_at_once_is_one_issue_linked_in_the_alert_thread(
    tmp_path, aiohttp_server
):
    from datetime import UTC, datetime

    from bot.alerts.samples import sample_payload

    hub = await aiohttp_server(github.create_github_emulator(github.GitHubEmulatorConfig()))
    stack = await start_stack(
        tmp_path,
        github_api_url=str(hub.make_url("")).rstrip("/"),
        github_token=github.DEFAULT_TOKEN,
        github_repo=github.DEFAULT_REPO,
        datadog_webhook_token="e2e-datadog-token",
    )
    try:
        headers, body, query = sample_payload(
            "datadog", secret="e2e-datadog-token", now=datetime.now(UTC), group="e2e-followup"
        )
        url = f"http://127.0.0.1:{stack.bot_port}/alerts/datadog"
        async with stack.http.post(url, data=body, headers=headers, params=query) as response:
            assert response.status == 202

        async def alert_thread() -> tuple[str, dict] | None:
            for channel in await stack.channels():
                if channel["name"] == "APM Alerts":
                    threads = await stack.threads(channel["id"])
                    if threads and threads[0]["attachments"]:
                        return channel["id"], threads[0]
            return None

        channel_id, thread = await wait_for(alert_thread)
        [incident] = await stack.incidents("correlation_id=datadog:e2e-followup")
        button = follow_up_button(thread["attachments"][0]["content"])
        answers = await asyncio.gather(
            *(stack.press(thread["id"], button["verb"], button["data"], ENGINEER) for _ in range(2))
        )
        assert [a["body"]["statusCode"] for a in answers] == [200, 200]

        async def linked() -> list[str]:
            current = await stack.thread(channel_id, thread["id"])
            return [r["text"] for r in current["replies"] if "Follow-up issue #1" in (r.get("text") or "")]

        assert len(await wait_for(linked)) == 1
        [issue] = await drive(hub, "GET", "/_emulator/issues")
        assert issue["title"].startswith(f"{incident['number']}: ")

        async def card_shows_it() -> str | None:
            current = await stack.thread(channel_id, thread["id"])
            value = fact(current["attachments"][0]["content"], "Follow-up")
            return value if value and "#1" in value else None

        assert "(open)" in await wait_for(card_shows_it)
        notes = [e["value"] for e in await stack.journal(incident["sys_id"]) if e["element"] == "work_notes"]
        assert sum("Follow-up issue #1" in note for note in notes) == 1
        assert len(await drive(hub, "GET", "/_emulator/issues")) == 1
    finally:
        await stack.close()
