"""The dashboard as a Teams tab: the tab page carries no data and no token; it signs in through Teams
(the emulator plays Teams: its SDK stand-in, its tenant's keys) and the server checks the token
before it serves anything. Also in a real browser, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from testkit.reporting import seeded_database
from testkit.stack import reserve_port, serve
from yarl import URL

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from bot.settings import Settings
from emulators.teams import TeamsEmulatorConfig, create_teams_emulator
from emulators.teams.config import sample_people
from schedule.roster import export_roster_csv
from schedule.sample import sample_roster

NOW = datetime(2022, 5, 3, 16, 0, tzinfo=UTC)
APP_ID = "00000000-0000-4000-8000-00000000a11d"
RESOURCE = f"api://golive.example.va.gov/{APP_ID}"
MANAGER = next(p for p in sample_people() if p.role == "manager")
CHROMIUM = Path("/usr/bin/chromium")


class Emulator:
    """The Teams emulator on a port of its own, its public URL the one it serves on."""

    def __init__(self, runner: web.AppRunner, base: str) -> None:
        self.runner = runner
        self.base = base

    def make_url(self, path: str) -> URL:
        return URL(self.base).join(URL(path.lstrip("/")))


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    sock = reserve_port()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = TeamsEmulatorConfig(public_url=base, tab_sso_resource=RESOURCE)
    runner = await serve(create_teams_emulator(config), sock)
    try:
        yield Emulator(runner, base)
    finally:
        await runner.cleanup()


async def bot(tmp_path, aiohttp_client, emulator, **settings: Any):
    config = TeamsEmulatorConfig()
    url = await seeded_database(tmp_path)
    values: dict[str, Any] = {
        "env": "production",
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "app-password",
        "microsoft_app_tenant_id": config.tenant_id,
        "public_url": "https://golive.example.va.gov",
        "database_url": url,
        "servicenow_url": "http://127.0.0.1:9",
        "dashboard_token": "s3cret-dashboard-token",
        "teams_sso_authority": emulator.base.rstrip("/"),
        "teams_js_url": str(emulator.make_url("/_emulator/teams-js/MicrosoftTeams.min.js")),
    }
    values.update(settings)
    app = create_app(Settings(**values), Overrides(run_background=False, clock=FrozenClock(NOW)))
    client = await aiohttp_client(app)
    runtime = app[RUNTIME]
    async with runtime.store.write() as connection:
        await records.save_roster_csv(runtime.store, connection, export_roster_csv(sample_roster()), NOW)
    return client


async def sso_token(emulator, **body: Any) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(emulator.make_url("/_emulator/sso/token"), json=body) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["token"])


async def test_the_tab_page_loads_the_teams_sdk_and_holds_no_data(tmp_path, aiohttp_client, emulator):
    client = await bot(tmp_path, aiohttp_client, emulator)
    response = await client.get("/dashboard/tab")
    assert response.status == 200
    html = await response.text()
    sdk = str(emulator.make_url("/_emulator/teams-js/MicrosoftTeams.min.js"))
    assert f'<script src="{sdk}"></script>' in html and '<script src="/dashboard/tab.js"></script>' in html
    assert "inquiries" not in html
    csp = response.headers["Content-Security-Policy"]
    origin = emulator.base.rstrip("/")
    assert f"script-src 'self' {origin}" in csp and "https://teams.microsoft.com" in csp
    script = await client.get("/dashboard/tab.js")
    assert "getAuthToken" in await script.text() and "/dashboard/tab/view" in await script.text()


async def test_a_teams_token_opens_the_dashboard_and_a_bad_one_does_not(tmp_path, aiohttp_client, emulator):
    client = await bot(tmp_path, aiohttp_client, emulator)
    good = await sso_token(emulator, user=MANAGER.aad_object_id)

    view = await client.post("/dashboard/tab/view", headers={"Authorization": f"Bearer {good}"})
    assert view.status == 200 and "Rollout timeline" in await view.text()
    # The same token opens the page and the JSON (the tab's own requests), in production.
    assert (await client.get("/dashboard", headers={"Authorization": f"Bearer {good}"})).status == 200
    assert (
        await client.get("/dashboard/data.json", headers={"Authorization": f"Bearer {good}"})
    ).status == 200

    refused = {
        "none": None,
        "expired": await sso_token(emulator, expires_in=-3600),
        "another app": await sso_token(emulator, audience="api://elsewhere.example/app"),
        "another tenant": await sso_token(emulator, tenant="00000000-0000-4000-8000-000000000bad"),
    }
    for case, token in refused.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.post("/dashboard/tab/view", headers=headers)
        assert response.status == 401, case
        assert "Rollout" not in await response.text()
        assert (await client.get("/dashboard", headers=headers)).status == 401, case


async def test_unreachable_tenant_keys_answer_503_not_401(tmp_path, aiohttp_client, emulator):
    client = await bot(tmp_path, aiohttp_client, emulator, teams_sso_authority="http://127.0.0.1:9")
    token = await sso_token(emulator)
    response = await client.post("/dashboard/tab/view", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 503


async def test_without_a_tenant_the_tab_refuses_in_production(tmp_path, aiohttp_client, emulator):
    client = await bot(
        tmp_path, aiohttp_client, emulator, microsoft_app_type="MultiTenant", microsoft_app_tenant_id=""
    )
    token = await sso_token(emulator)
    response = await client.post("/dashboard/tab/view", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401 and "not configured" in await response.text()


async def test_the_emulated_sdk_and_tenant_metadata(emulator):
    tenant = TeamsEmulatorConfig().tenant_id
    async with aiohttp.ClientSession() as http:
        async with http.get(emulator.make_url("/_emulator/teams-js/MicrosoftTeams.min.js")) as response:
            script = await response.text()
        assert "getAuthToken" in script and "microsoftTeams" in script
        async with http.options(emulator.make_url("/_emulator/sso/token")) as response:
            assert response.status == 204 and response.headers["Access-Control-Allow-Origin"] == "*"
        async with http.get(
            emulator.make_url(f"/{tenant}/v2.0/.well-known/openid-configuration")
        ) as response:
            metadata = await response.json()
        assert metadata["issuer"] == f"{emulator.make_url('/')}{tenant}/v2.0"
        async with http.get(metadata["jwks_uri"]) as response:
            keys = (await response.json())["keys"]
        assert keys and all(key["kty"] == "RSA" and key["kid"] for key in keys)
        async with http.post(emulator.make_url("/_emulator/sso/token"), data="not json") as response:
            assert response.status == 400
        async with http.post(emulator.make_url("/_emulator/sso/token"), json={"user": "nobody"}) as response:
            assert response.status == 404


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
async def test_the_tab_signs_in_through_the_emulated_teams_in_a_real_browser(
    tmp_path, aiohttp_client, emulator
):
    playwright_api = pytest.importorskip("playwright.async_api")
    client = await bot(tmp_path, aiohttp_client, emulator)
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            url = client.make_url("/dashboard/tab").with_query(emulatorUser=MANAGER.aad_object_id)
            response = await page.goto(str(url))
            assert response is not None and response.status == 200
            await page.wait_for_selector("#inquiries-total", timeout=15_000)
            assert await page.inner_text("#inquiries-total") == "9"
            assert problems == []
        finally:
            await browser.close()
