"""Helpers for the Slack adapter tests: recorded payloads, Slack's signing, and the bot in-process.

``SlackBot`` is the product (``create_app``) with Slack on, driven in-process through aiohttp's test
client: requests are signed the way Slack signs them (written here from Slack's published
algorithm, not with the product's own signer), and :meth:`SlackBot.drain` runs what the requests
stored and every job they queued, so a test asserts on a settled state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, Runtime, create_app
from bot.bridge import records
from bot.clock import FrozenClock
from bot.ports import Person
from bot.settings import Environment, Settings
from bot.storage import tables
from schedule.roster import export_roster_csv
from schedule.sample import sample_plan, sample_roster

SECRET = "slack-bot-test-secret"
TOKEN = "xoxb-slack-bot-test"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
WATCHED = "check-in-go-live"
SLACK_STAFF = Person("U0PAT00001", "Pat Frontdesk", email="pat.frontdesk@example.org", platform="slack")
SLACK_JANE = Person("U0JANE0001", "Jane Doe", email="jane.doe@example.va.gov", platform="slack")


def fixture(name: str) -> dict[str, Any]:
    """A recorded payload without its ``_source`` note."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data.pop("_source", None)
    return data


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature, as "Verifying requests from Slack" describes it."""
    return (
        "v0="
        + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )


def signed(
    body: bytes, content_type: str = JSON, *, secret: str = SECRET, at: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
    }


def slack_settings(database_url: str, api_url: str = "http://127.0.0.1:9/api/", **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        microsoft_app_id="",
        servicenow_url="http://servicenow.invalid",
        team_id="team",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        slack_channels=f"{WATCHED},C111",
    )
    values.update(extra)
    return Settings(**values)


def message_event(
    text: Any,
    *,
    channel: str = "C111",
    user: str = "W222",
    ts: str = "1651590000.000100",
    thread_ts: str | None = None,
    event_id: str = "Ev0000000001",
    **extra: Any,
) -> dict[str, Any]:
    """An event_callback with a person's message, in Slack's shape."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {
        "token": "verification-token",
        "team_id": "T111",
        "api_app_id": "A111",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1651590000,
    }


@dataclass
class SlackBot:
    client: TestClient
    runtime: Runtime
    tracker: FakeTracker
    chat: FakeChat  # the Slack chat platform (a fake unless the test uses the real one)

    async def post(
        self,
        body: bytes | str | dict[str, Any],
        content_type: str = JSON,
        *,
        secret: str = SECRET,
        at: float | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> tuple[int, Any]:
        raw = (
            json.dumps(body).encode()
            if isinstance(body, dict)
            else body.encode()
            if isinstance(body, str)
            else body
        )
        sent = signed(raw, content_type, secret=secret, at=at) if sign else {"Content-Type": content_type}
        response = await self.client.post("/slack/events", data=raw, headers=sent | (headers or {}))
        text = await response.text()
        try:
            answer: Any = json.loads(text) if text else None
        except ValueError:
            answer = text
        return response.status, answer

    async def drain(self, rounds: int = 30) -> int:
        done = 0
        for _ in range(rounds):
            ran = await self.runtime.processor.drain() + await self.runtime.worker.drain_once()
            done += ran
            if not ran:
                return done
        raise AssertionError("the bot did not settle")

    async def stored(self) -> list[Any]:
        async with self.runtime.store.read() as connection:
            received = tables.received_activities
            return list(
                (
                    await connection.execute(
                        select(received).where(received.c.source == "slack").order_by(received.c.id)
                    )
                ).all()
            )

    async def inquiries(self) -> list[Any]:
        async with self.runtime.store.read() as connection:
            return list(
                (await connection.execute(select(tables.inquiries).order_by(tables.inquiries.c.id))).all()
            )

    async def dead_letters(self) -> list[Any]:
        async with self.runtime.store.read() as connection:
            outbox, received = tables.outbox, tables.received_activities
            jobs = (await connection.execute(select(outbox).where(outbox.c.dead_at.is_not(None)))).all()
            events = (await connection.execute(select(received).where(received.c.dead_at.is_not(None)))).all()
            return [*jobs, *events]


async def start_bot(aiohttp_client: Any, database_url: str, api_url: str, **settings: Any) -> SlackBot:
    clock = FrozenClock(SAMPLE_NOW)
    tracker, chat = FakeTracker(), FakeChat("slack")
    app = create_app(
        slack_settings(database_url, api_url, **settings),
        Overrides(
            clock=clock,
            tracker=tracker,
            teams=FakeChat(),
            slack=chat,
            directory=FakeDirectory(),
            run_background=False,
        ),
    )
    client = await aiohttp_client(app)
    runtime = app[RUNTIME]
    async with runtime.store.write() as connection:
        await records.save_plan(connection, sample_plan(), SAMPLE_NOW)
        await records.save_roster_csv(
            runtime.store, connection, export_roster_csv(sample_roster()), SAMPLE_NOW
        )
    return SlackBot(client, runtime, tracker, chat)
