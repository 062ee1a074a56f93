"""The console in headless Chromium: post as site staff, see the bot's Block Kit reply, press its button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slackemu_support import AUTH, ENGINEER, STAFF, FakeBot, Received, channel_id

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def incident_blocks(status: str, with_buttons: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*INC0010001* · {status}"}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Scheduling Support · <@{ENGINEER.user_id}>"}],
        },
    ]
    if with_buttons:
        buttons = [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "ack",
                "value": "1",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Scheduling Support"},
                "action_id": "route",
                "value": "t2",
            },
        ]
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


async def test_console_posts_as_site_staff_and_presses_a_block_kit_button(make_emulator, fake_bot: FakeBot):
    playwright_api = pytest.importorskip("playwright.async_api")
    api_base: list[str] = []
    session = aiohttp.ClientSession()

    async def bot(request: Received) -> web.StreamResponse | None:
        if request.content_type.startswith("application/json"):
            event = request.json().get("event", {})
            if event.get("type") == "message" and "bot_id" not in event and "subtype" not in event:
                body = {
                    "channel": event["channel"],
                    "thread_ts": event["ts"],
                    "text": "INC0010001",
                    "blocks": incident_blocks("New", True),
                }
                async with session.post(api_base[0] + "chat.postMessage", json=body, headers=AUTH) as resp:
                    assert (await resp.json())["ok"] is True
        else:
            payload = request.payload()
            answer = {
                "replace_original": True,
                "text": "INC0010001",
                "blocks": incident_blocks("Acknowledged by Jane Doe", False),
            }
            async with session.post(payload["response_url"], json=answer) as resp:
                assert resp.status == 200
        return None

    fake_bot.on_request = bot
    client = await make_emulator(fake_bot.url)
    api_base.append(str(client.make_url("/api/")))
    channel = await channel_id(client)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 800})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(str(client.make_url("/")))
                await page.wait_for_selector(f"#person option[value='{STAFF.user_id}']", state="attached")
                await page.select_option("#person", STAFF.user_id)
                await page.click("button.channel-link:has-text('check-in-go-live')")
                await page.fill("#composer-text", "Check-in kiosk 3 shows a blank screen")
                await page.click("#composer-send")
                await page.wait_for_selector(".thread .text:has-text('kiosk 3 shows a blank screen')")
                button = page.locator(".blocks button", has_text="Acknowledge")
                await button.wait_for()
                await page.select_option("#person", ENGINEER.user_id)
                await button.click()
                await page.wait_for_selector(".blocks:has-text('Acknowledged by Jane Doe')")
                assert await page.locator(".blocks button", has_text="Acknowledge").count() == 0
                await page.screenshot(path=str(ARTIFACTS / "slack-console.png"), full_page=True)
                assert errors == []
            finally:
                await browser.close()
    finally:
        await session.close()

    [press] = fake_bot.forms()
    payload = press.payload()
    assert payload["actions"][0]["action_id"] == "ack"
    assert payload["user"]["id"] == ENGINEER.user_id  # pressed as the person picked in the console
    assert payload["channel"]["id"] == channel
