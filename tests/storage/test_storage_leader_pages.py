"""Which replica leads the schedule shows in ``/readyz``, ``/metrics`` and the dashboard of every
replica: the leader says it leads, a follower says it does not and names the leader."""

from __future__ import annotations

import re

import pytest
from testkit.stack import wait_for

from bot.app import RUNTIME, Overrides, create_app
from bot.settings import Environment, Settings


def settings_for(database_url: str) -> Settings:
    return Settings(
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        servicenow_url="http://127.0.0.1:9",
        graph_url="http://127.0.0.1:9/v1.0",
        tick_seconds=30,
    )


def scheduler_leader(metrics_text: str) -> float:
    match = re.search(r"^golive_scheduler_leader (\S+)$", metrics_text, re.MULTILINE)
    assert match, "golive_scheduler_leader is missing"
    return float(match.group(1))


async def pages(client) -> tuple[dict, float, dict, str]:
    ready = await client.get("/readyz")
    assert ready.status == 200
    metrics = await (await client.get("/metrics")).text()
    data = await (await client.get("/dashboard/data.json")).json()
    html = await (await client.get("/dashboard")).text()
    return await ready.json(), scheduler_leader(metrics), data["leadership"], html


# ``database_url`` comes first: torn down last, so the apps stop before their database is dropped.


async def test_the_leader_says_so_everywhere(database_url, aiohttp_client):
    client = await aiohttp_client(create_app(settings_for(database_url)))
    identity = client.app[RUNTIME].leadership.identity
    ready, gauge, dashboard, html = await pages(client)
    assert ready["leader"] is True
    assert ready["replica"] == ready["leader_replica"] == identity
    assert gauge == 1
    assert dashboard["leader"] is True and dashboard["leader_replica"] == identity
    assert f"scheduler leader: this replica ({identity})" in html


async def test_a_replica_without_the_schedule_is_no_leader(database_url, aiohttp_client):
    client = await aiohttp_client(create_app(settings_for(database_url), Overrides(run_background=False)))
    ready, gauge, dashboard, html = await pages(client)
    assert ready["leader"] is False
    assert gauge == 0
    assert dashboard["leader"] is False
    assert 'data-leader="false"' in html


async def test_a_follower_names_the_leader(database_url, aiohttp_client):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one replica; PostgreSQL replicas follow the leader")
    leader = await aiohttp_client(create_app(settings_for(database_url)))
    follower = await aiohttp_client(create_app(settings_for(database_url)))
    leader_identity = leader.app[RUNTIME].leadership.identity
    follower_identity = follower.app[RUNTIME].leadership.identity

    async def named():
        return (await (await follower.get("/readyz")).json())["leader_replica"] == leader_identity

    await wait_for(named, timeout=10)
    ready, gauge, dashboard, html = await pages(follower)
    assert ready["leader"] is False and ready["replica"] == follower_identity
    assert gauge == 0
    assert dashboard["leader_replica"] == leader_identity and dashboard["leader"] is False
    assert f"scheduler leader: {leader_identity}; this replica ({follower_identity}) follows" in html
    assert scheduler_leader(await (await leader.get("/metrics")).text()) == 1
