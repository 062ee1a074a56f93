"""Helpers for the Slack emulator tests: people, clocks, a fake bot's record, fixtures, a verifier.

The verifier here is written from Slack's published algorithm, independently of the emulator's own
signer, so a test that uses it checks the emulator against Slack rather than against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.test_utils import TestClient

from emulators.slack import EMULATOR, Person, SlackEmulator

STAFF = Person("Pat Frontdesk", "pat.frontdesk@example.org", "site-staff")
STAFF2 = Person("Sam Clerk", "sam.clerk@example.org", "site-staff")
ENGINEER = Person("Jane Doe", "jane.doe@example.va.gov", "engineer", tz="America/New_York")
MANAGER = Person("Morgan Manager", "morgan.manager@example.org", "manager")
PEOPLE = (STAFF, STAFF2, ENGINEER, MANAGER)
SIM_NOW = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GO_LIVE = "check-in-go-live"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"

OnRequest = Callable[["Received"], Awaitable[web.StreamResponse | None]]


def fixture(name: str) -> dict[str, Any]:
    """A recorded payload without its `_source` note."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data.pop("_source")
    return data


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature, straight from "Verifying requests from Slack"."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Received:
    """One request the fake bot got, with its raw body and headers."""

    headers: dict[str, str]
    raw: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        return json.loads(self.raw)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.raw.decode(), keep_blank_values=True).items()}

    def payload(self) -> Any:
        return json.loads(self.form()["payload"])

    def signature_valid(self, secret: str = SECRET) -> bool:
        timestamp = self.headers["X-Slack-Request-Timestamp"]
        expected = slack_signature(secret, timestamp, self.raw)
        return hmac.compare_digest(expected, self.headers["X-Slack-Signature"])


@dataclass
class FakeBot:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    on_request: OnRequest | None = None

    def events(self, event_type: str | None = None, subtype: str | None = None) -> list[dict[str, Any]]:
        out = []
        for request in self.received:
            if not request.content_type.startswith("application/json"):
                continue
            body = request.json()
            event = body.get("event") or {}
            if event_type is not None and event.get("type") != event_type:
                continue
            if subtype is not None and event.get("subtype") != subtype:
                continue
            out.append(body)
        return out

    def forms(self) -> list[Received]:
        return [r for r in self.received if r.content_type.startswith("application/x-www-form-urlencoded")]


def service(client: TestClient) -> SlackEmulator:
    app = client.app
    assert app is not None
    return app[EMULATOR]


async def channel_id(client: TestClient, name: str = GO_LIVE) -> str:
    resp = await client.get("/_emulator/channels")
    return next(c["id"] for c in (await resp.json())["channels"] if c["name"] == name)


async def post_as(
    client: TestClient, channel: str, person: Person, text: str, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"user": person.user_id, "text": text, **extra}
    if thread_ts:
        body["thread_ts"] = thread_ts
    resp = await client.post(f"/_emulator/channels/{channel}/messages", json=body)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def call(client: TestClient, method: str, **args: Any) -> dict[str, Any]:
    """A Web API call as slack_sdk makes chat.* calls: JSON body, bearer token."""
    resp = await client.post(f"/api/{method}", json=args, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())
