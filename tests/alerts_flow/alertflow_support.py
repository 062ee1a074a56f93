"""Helpers of tests/alerts_flow: the alert flow in-process: the product on the fakes with the alert endpoints reachable through an
aiohttp test client, and helpers to deliver recorded or sample alerts and read the outcome."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from testkit.bridge import ROSTER, FakeBridge, settings_for
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.alerts import RECEIVERS, Alert, Source
from bot.alerts.samples import sample_payload
from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.bridge.alerts import alert_of, stored_payload
from bot.clock import FrozenClock
from bot.storage import tables
from schedule.roster import export_roster_csv
from schedule.sample import sample_plan

SECRETS: dict[Source, str] = {
    "sentry": "test-sentry-client-secret",
    "datadog": "test-datadog-token",
    "pagerduty": "test-pagerduty-webhook-secret",
    "bugsnag": "test-bugsnag-token",
}
ALERT_SETTINGS: dict[str, Any] = {
    "sentry_client_secret": SECRETS["sentry"],
    "datadog_webhook_token": SECRETS["datadog"],
    "pagerduty_webhook_secret": SECRETS["pagerduty"],
    "bugsnag_webhook_token": SECRETS["bugsnag"],
}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"


@dataclass
class AlertBridge:
    """The product on fakes (``bridge``) and a client of its HTTP endpoints (``client``)."""

    bridge: FakeBridge
    client: TestClient

    @property
    def chat(self) -> FakeChat:
        return self.bridge.chat

    @property
    def tracker(self) -> FakeTracker:
        return self.bridge.tracker

    async def drain(self) -> int:
        return await self.bridge.drain(rounds=200)

    async def send(
        self, source: Source, headers: dict[str, str], body: bytes, query: dict[str, str] | None = None
    ) -> Any:
        response = await self.client.post(f"/alerts/{source}", data=body, headers=headers, params=query or {})
        await response.read()
        return response

    async def send_sample(self, source: Source, **options: Any) -> Any:
        headers, body, query = sample_payload(
            source, secret=SECRETS[source], now=datetime.now(UTC), **options
        )
        return await self.send(source, headers, body, query)

    async def apply(self, source: Source, **options: Any) -> str:
        """A sample alert straight into the use case (no HTTP), as the processor would."""
        headers, body, _ = sample_payload(source, secret=SECRETS[source], now=datetime.now(UTC), **options)
        alert = RECEIVERS[source].parse(headers, body)
        assert isinstance(alert, Alert)
        event, received_at = alert_of(stored_payload(alert, self.bridge.clock.now()))
        return await self.bridge.runtime.alerts.apply(event, received_at)

    async def rows(self) -> list[Any]:
        async with self.bridge.runtime.store.read() as connection:
            return list((await connection.execute(select(tables.alerts).order_by(tables.alerts.c.id))).all())

    async def row(self, correlation_id: str) -> Any:
        found = [row for row in await self.rows() if row.correlation_id == correlation_id]
        assert found, f"no alert row {correlation_id}"
        return found[0]

    def alert_posts(self) -> list[Any]:
        """Top-level posts in the alert channel (the Teams one)."""
        channels = [c.id for c in self.bridge.directory.channels.values() if c.name == "APM Alerts"]
        return [p for p in self.chat.new_threads() if p.channel_id in channels]


@asynccontextmanager
async def alert_bridge(
    tmp_path: Path, *, now: datetime = SAMPLE_NOW, roster: bool = True, **settings: Any
) -> AsyncIterator[AlertBridge]:
    """The product on fakes with the alert secrets set, the sample plan and roster, no servers but
    the test client's."""
    clock = FrozenClock(now)
    chat, tracker, directory = FakeChat(), FakeTracker(), FakeDirectory()
    app: web.Application = create_app(
        settings_for(tmp_path, **{**ALERT_SETTINGS, **settings}),
        Overrides(clock=clock, tracker=tracker, teams=chat, directory=directory, run_background=False),
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        runtime = app[RUNTIME]
        async with runtime.store.write() as connection:
            await records.save_plan(connection, sample_plan(), now)
            if roster:
                await records.save_roster_csv(runtime.store, connection, export_roster_csv(ROSTER), now)
        yield AlertBridge(FakeBridge(runtime, clock, chat, tracker, directory), client)
    finally:
        await client.close()


def recorded(source: str, name: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
    """A recorded delivery: its headers, the exact body bytes its signature covers, its query."""
    headers, body, query = _recorded(source, name)
    return dict(headers), body, dict(query)


@cache
def _recorded(source: str, name: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
    document = json.loads((FIXTURES / source / f"{name}.json").read_text())
    body = json.dumps(document["body"], separators=(",", ":"), ensure_ascii=False).encode()
    return document["headers"], body, document.get("query", {})


def recorded_time(headers: dict[str, str]) -> datetime:
    stamp = headers.get("Sentry-Hook-Timestamp")
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else datetime.now(UTC)
