"""``GET /dashboard``: renders the rollout with data, frames only inside Teams, needs a token in production."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from testkit.reporting import seeded_database

from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from bot.reporting.dashboard import load_dashboard, render_dashboard, response_bucket
from bot.settings import Settings
from schedule.roster import export_roster_csv
from schedule.sample import sample_roster

NOW = datetime(2022, 5, 3, 16, 0, tzinfo=UTC)  # Tuesday of the fixture week, working hours in the US
TOKEN = "s3cret-dashboard-token"
PRODUCTION = {
    "env": "production",
    "microsoft_app_id": "00000000-0000-4000-8000-00000000a11d",
    "microsoft_app_password": "app-password",
    "microsoft_app_tenant_id": "00000000-0000-4000-8000-0000000e7a17",
}


async def make_client(tmp_path, aiohttp_client, **settings):
    url = await seeded_database(tmp_path)
    values = {"env": "development", "database_url": url, "servicenow_url": "http://127.0.0.1:9"}
    values.update(settings)
    app = create_app(Settings(**values), Overrides(run_background=False, clock=FrozenClock(NOW)))
    client = await aiohttp_client(app)
    components = app[RUNTIME]
    async with components.store.write() as connection:
        await records.save_roster_csv(components.store, connection, export_roster_csv(sample_roster()), NOW)
    return client


@pytest.fixture
async def client(tmp_path, aiohttp_client):
    return await make_client(tmp_path, aiohttp_client)


async def test_dashboard_renders_the_rollout_with_data(client):
    response = await client.get("/dashboard")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert "Rollout timeline" in html and "<svg" in html
    assert '<div class="value" id="inquiries-total">9</div>' in html  # 10 rows, one deleted post
    assert '<div class="value" id="open-incidents">5</div>' in html
    assert '<div class="value" id="channels-open">1</div>' in html
    # the timeline: one bar per planned site, pulled sites marked
    assert len(re.findall(r'<rect class="(?:planned|open|retired|cancelled|pulled)"', html)) == 7
    assert "508 Atlanta: 2022-05-02, channel retired, 4 inquiries, 2 open" in html
    assert 'class="pulled"' in html
    # today's duty from the sample roster
    duty = html.split('id="duty"')[1].split("</section>")[0]
    assert "primary" in duty and "backup" in duty
    # open incidents per site, linked to ServiceNow
    assert '<a href="https://sn.example/incident/2"' in html
    # charts: inquiries by day of go-live week, first-response distribution
    assert "Day 1: 4" in html  # #1 #2 #6 (week of 05-02) and #10 (another week)
    # 60 s, 30 s, 10 s, and #9: posted on a Sunday and answered before Monday's clock started (issue 17)
    assert "≤ 1 min: 4" in html
    assert "waiting: 2" in html  # #4 and #8 were posted after NOW: their clocks have not run out
    assert "missed: 0" in html
    assert "<script" not in html and "http://cdn" not in html and "https://cdn" not in html


async def test_dashboard_may_be_framed_by_teams_only(client):
    response = await client.get("/dashboard")
    assert "X-Frame-Options" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    ancestors = csp.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert {"'self'", "https://teams.microsoft.com", "https://*.teams.microsoft.com"} <= set(ancestors)
    assert "default-src 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store"


async def test_data_json_serves_the_same_figures(client):
    response = await client.get("/dashboard/data.json")
    assert response.status == 200
    data = await response.json()
    assert data["inquiries"] == 9 and data["open_incidents"] == 5
    assert [c["count"] for c in data["inquiries_by_day"]] == [4, 2, 1, 0, 0, 0, 1]
    by_site = {s["station"]: s["open_incidents"] for s in data["open_by_site"]}
    assert by_site == {"508": 2, "528A7": 2, "100": 1}
    assert {d["role"] for d in data["duty"]} >= {"primary", "backup"}
    assert data["now"] == NOW.isoformat()


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/data.json"])
async def test_production_needs_the_dashboard_token(tmp_path, aiohttp_client, path):
    client = await make_client(tmp_path, aiohttp_client, **PRODUCTION, dashboard_token=TOKEN)
    assert (await client.get(path)).status == 401
    assert (await client.get(path, headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get(path, params={"token": "wrong"})).status == 401
    unauthorized = await client.get(path)
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    assert (await client.get(path, params={"token": TOKEN})).status == 200


async def test_production_without_a_configured_token_refuses_everyone(tmp_path, aiohttp_client):
    client = await make_client(tmp_path, aiohttp_client, **PRODUCTION)
    assert (await client.get("/dashboard")).status == 401
    assert (await client.get("/dashboard", headers={"Authorization": "Bearer "})).status == 401
    assert (await client.get("/dashboard", params={"token": ""})).status == 401


async def test_empty_database_renders_without_data(tmp_path):
    from bot.storage.database import create_engine, migrate
    from bot.storage.store import Store

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        await migrate(engine)
        data = await load_dashboard(Store(engine), NOW)
    finally:
        await engine.dispose()
    html = render_dashboard(data)
    assert "No rollout plan loaded." in html and "No open incidents." in html
    assert "Nobody is on the roster for today." in html


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [
        (None, "missed"),
        (0, "≤ 1 min"),
        (60, "≤ 1 min"),
        (61, "1–5 min"),
        (300, "1–5 min"),
        (301, "5–15 min"),
    ],
)
def test_first_response_buckets(seconds, bucket):
    assert response_bucket(seconds) == bucket


async def test_changes_panel_shows_the_latest_audit_entries_newest_first(tmp_path, aiohttp_client):
    url = await seeded_database(tmp_path)
    app = create_app(
        Settings(env="development", database_url=url, servicenow_url="http://127.0.0.1:9"),
        Overrides(run_background=False, clock=FrozenClock(NOW)),
    )
    client = await aiohttp_client(app)
    store = app[RUNTIME].store
    async with store.write() as connection:
        await records.audit(
            connection, NOW, "Morgan Manager (m-1)", "site.pull", "pull 999 Pulled\nmore", ["999"]
        )
        await records.audit(
            connection,
            NOW.replace(hour=17),
            "api:flow",
            "plan.import",
            "imported <b>x</b>.csv (merge)",
            ["600"],
        )
    html = await (await client.get("/dashboard")).text()
    changes = html.split('id="changes"')[1].split("</section>")[0]
    assert changes.index("plan.import") < changes.index("site.pull")
    assert "Morgan Manager (m-1)" in changes and "pull 999 Pulled (+1 more line)" in changes
    assert "&lt;b&gt;x&lt;/b&gt;" in changes  # escaped, never markup
    data = await (await client.get("/dashboard/data.json")).json()
    assert [c["action"] for c in data["changes"]] == ["plan.import", "site.pull"]
