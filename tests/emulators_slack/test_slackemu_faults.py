"""Fault injection on the Web API (rate limits per tier, HTTP statuses, Slack errors) and call counts."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from slackemu_support import AUTH, call, channel_id


async def set_faults(client: TestClient, **faults: object) -> dict[str, object]:
    resp = await client.post("/_emulator/faults", json=faults)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_rate_limit_answers_429_with_retry_after_after_n_calls(emulator: TestClient):
    channel = await channel_id(emulator)
    await set_faults(emulator, rate_limit={"limit": 2, "retry_after": 7})
    statuses = []
    for n in range(3):
        resp = await emulator.post(
            "/api/chat.postMessage", json={"channel": channel, "text": f"{n}"}, headers=AUTH
        )
        statuses.append(resp.status)
    assert statuses == [200, 200, 429]
    assert resp.headers["Retry-After"] == "7"
    assert await resp.json() == {"ok": False, "error": "ratelimited"}


async def test_rate_limit_counts_each_tier_separately(emulator: TestClient):
    channel = await channel_id(emulator)
    await set_faults(emulator, rate_limit={"limit": 1, "retry_after": 30})
    assert (await call(emulator, "chat.postMessage", channel=channel, text="a"))["ok"] is True
    refused = await emulator.post(
        "/api/chat.postMessage", json={"channel": channel, "text": "b"}, headers=AUTH
    )
    assert refused.status == 429
    # users.info is tier 4 and conversations.info tier 3: their buckets are still open.
    assert (
        await emulator.get("/api/conversations.info", params={"channel": channel}, headers=AUTH)
    ).status == 200
    assert (await emulator.post("/api/auth.test", headers=AUTH)).status == 200


async def test_rate_limit_can_be_limited_to_some_methods(emulator: TestClient):
    channel = await channel_id(emulator)
    await set_faults(emulator, rate_limit={"limit": 0, "retry_after": 5, "methods": ["chat.update"]})
    assert (await call(emulator, "chat.postMessage", channel=channel, text="a"))["ok"] is True
    resp = await emulator.post(
        "/api/chat.update", json={"channel": channel, "ts": "1.1", "text": "b"}, headers=AUTH
    )
    assert resp.status == 429


async def test_status_fault_answers_that_status_for_count_calls(emulator: TestClient):
    await set_faults(emulator, status=503, count=2)
    statuses = [(await emulator.post("/api/auth.test", headers=AUTH)).status for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert await (await emulator.get("/_emulator/faults")).json() == {}


async def test_error_fault_answers_ok_false_for_the_named_methods_only(emulator: TestClient):
    channel = await channel_id(emulator)
    await set_faults(emulator, error="fatal_error", methods=["chat.postMessage"])
    failed = await emulator.post(
        "/api/chat.postMessage", json={"channel": channel, "text": "a"}, headers=AUTH
    )
    assert failed.status == 200
    assert await failed.json() == {"ok": False, "error": "fatal_error"}
    assert (await call(emulator, "auth.test"))["ok"] is True


async def test_delete_clears_every_fault(emulator: TestClient):
    await set_faults(emulator, status=500, latency_ms=5)
    resp = await emulator.delete("/_emulator/faults")
    assert await resp.json() == {}
    assert (await emulator.post("/api/auth.test", headers=AUTH)).status == 200


async def test_bad_fault_objects_get_400_with_a_reason(emulator: TestClient):
    for body in ({"status": 200}, {"rate_limit": {"limit": -1}}, {"nonsense": 1}, {"methods": "chat.update"}):
        resp = await emulator.post("/_emulator/faults", json=body)
        assert resp.status == 400, body
        assert (await resp.json())["error"]["message"]


async def test_calls_are_counted_per_method_with_their_outcome(emulator: TestClient):
    channel = await channel_id(emulator)
    await call(emulator, "chat.postMessage", channel=channel, text="a")
    await call(emulator, "chat.postMessage", channel="C0NOSUCH00", text="b")
    await emulator.post("/api/auth.test")
    calls = await (await emulator.get("/_emulator/calls")).json()
    assert calls["counts"] == {"chat.postMessage": 2, "auth.test": 1}
    outcomes = [(c["method"], c["ok"], c.get("error")) for c in calls["calls"]]
    assert outcomes == [
        ("chat.postMessage", True, None),
        ("chat.postMessage", False, "channel_not_found"),
        ("auth.test", False, "not_authed"),
    ]
    only = await (await emulator.get("/_emulator/calls", params={"method": "auth.test"})).json()
    assert len(only["calls"]) == 1
    assert all("text" not in c["args"] for c in calls["calls"])  # message text never kept
