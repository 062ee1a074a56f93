"""The console in headless Chromium: post as site staff, see the bot's card, press its button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from testkit.teams_emulator import STAFF, FakeBot, create_channel

from emulators.teams.config import DEFAULT_TEAM_ID

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CARD = "application/vnd.microsoft.card.adaptive"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def incident_card(status: str, with_button: bool) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": "INC0010001", "weight": "Bolder", "size": "Medium"},
            {"type": "TextBlock", "text": status, "wrap": True},
        ],
        "actions": [{"type": "Action.Execute", "title": "Acknowledge", "verb": "ack", "data": {"n": 1}}]
        if with_button
        else [],
    }


async def test_console_posts_as_site_staff_and_presses_a_card_button(make_emulator, fake_bot: FakeBot):
    playwright_api = pytest.importorskip("playwright.async_api")

    async def bot(activity: dict[str, Any]) -> web.StreamResponse | None:
        if activity["type"] == "message":
            await fake_bot.reply(
                activity, "", attachments=[{"contentType": CARD, "content": incident_card("New", True)}]
            )
        if activity["type"] == "invoke":
            body = {"statusCode": 200, "type": CARD, "value": incident_card("Acknowledged by Alex", False)}
            return web.json_response(body)
        return None

    fake_bot.on_activity = bot
    client = await make_emulator(fake_bot.url)
    await create_channel(client, "Go Live - 508 Atlanta")
    retired = await create_channel(client, "Go Live - 528A7 Bath")
    resp = await client.post(f"/v1.0/teams/{DEFAULT_TEAM_ID}/channels/{retired}/archive")
    assert resp.status == 202
    ARTIFACTS.mkdir(exist_ok=True)

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(str(client.make_url("/")))
            await page.wait_for_selector(f"#person option[value='{STAFF.aad_object_id}']", state="attached")
            await page.select_option("#person", STAFF.aad_object_id)
            await page.click("button.channel-link:has-text('508 Atlanta')")
            assert await page.locator("button.channel-link.archived", has_text="528A7 Bath").count() == 1
            assert "site-staff" in await page.inner_text("#person-info")

            await page.fill("#composer-text", "Check-in kiosk 3 shows a blank screen")
            await page.click("#composer-send")
            await page.wait_for_selector(".thread .text:has-text('kiosk 3 shows a blank screen')")
            button = page.locator(".card-host button", has_text="Acknowledge")
            await button.wait_for()
            await button.click()
            await page.wait_for_selector(".card-host:has-text('Acknowledged by Alex')")
            await page.screenshot(path=str(ARTIFACTS / "teams-console.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()

    [invoke] = fake_bot.of_type("invoke")
    assert invoke["value"]["action"]["verb"] == "ack"
    assert invoke["from"]["aadObjectId"] == STAFF.aad_object_id  # pressed as the selected person
