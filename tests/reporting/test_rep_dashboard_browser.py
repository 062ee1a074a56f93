"""The dashboard in headless Chromium: it renders with data, charts drawn, no errors; screenshot saved."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit.reporting import seeded_database

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from bot.settings import Settings
from schedule.roster import export_roster_csv
from schedule.sample import sample_roster

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = datetime(2022, 5, 3, 16, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


async def test_dashboard_renders_with_data_in_a_real_browser(tmp_path, aiohttp_client):
    playwright_api = pytest.importorskip("playwright.async_api")
    url = await seeded_database(tmp_path)
    settings = Settings(env="development", database_url=url, servicenow_url="http://127.0.0.1:9")
    app = create_app(settings, Overrides(run_background=False, clock=FrozenClock(NOW)))
    client = await aiohttp_client(app)
    components = app[RUNTIME]
    async with components.store.write() as connection:
        await records.save_roster_csv(components.store, connection, export_roster_csv(sample_roster()), NOW)
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
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            response = await page.goto(str(client.make_url("/dashboard")))
            assert response is not None and response.status == 200
            assert await page.title() == "Go Live dashboard"
            assert await page.inner_text("#inquiries-total") == "9"
            assert await page.inner_text("#open-incidents") == "5"
            # charts drawn: timeline bars, by-day bars, first-response bars with real size
            assert await page.locator("#timeline svg rect.open").count() == 1
            assert await page.locator("#timeline svg rect.retired").count() == 3
            assert await page.locator("#by-day svg rect.bar").count() == 7
            box = await page.locator("#by-day svg rect.bar").first.bounding_box()
            assert box is not None and box["height"] > 20
            assert (
                await page.locator("#first-response svg rect.bar.late").count() == 4
            )  # the buckets past 5 minutes, and none
            assert "working now" in await page.inner_text("#duty")
            assert "INC0000002" in await page.inner_text("#open-by-site")
            assert problems == []
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            await browser.close()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
