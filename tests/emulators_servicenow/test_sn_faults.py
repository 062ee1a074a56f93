"""Fault injection in the ServiceNow emulator: the fault endpoint, and what each fault answers.

How the gateway lives through these faults is tests/servicenow/test_sn_gateway_faults.py.
"""

from __future__ import annotations

import time

import aiohttp
from testkit.servicenow import Emulator, set_faults

INCIDENTS = "/api/now/table/incident"


async def test_fault_endpoint_merges_and_clears_without_auth(emulator: Emulator) -> None:
    assert await set_faults(emulator, {"latency_ms": 5}) == {"latency_ms": 5}
    assert await set_faults(emulator, {"outage": True}) == {"latency_ms": 5, "outage": True}
    assert await set_faults(emulator, {"latency_ms": None}) == {"outage": True}
    assert await set_faults(emulator, None) == {}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emulator.base_url}/_emulator/faults", json={"bogus": 1}) as response:
            assert response.status == 400


async def test_outage_answers_503_envelope_and_spares_the_queue_page(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await set_faults(emulator, {"outage": True})
    async with http.get(INCIDENTS) as response:
        assert response.status == 503
        body = await response.json()
    assert body["status"] == "failure" and body["error"]["message"]
    async with http.get("/") as response:
        assert response.status == 200


async def test_status_fault_with_count_fires_then_clears(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await set_faults(emulator, {"status": 403, "count": 1})
    async with http.get(INCIDENTS) as response:
        assert response.status == 403
        assert (await response.json())["error"]["detail"].startswith("ACL Exception Read Failed")
    async with http.get(INCIDENTS) as response:
        assert response.status == 200


async def test_status_fault_rate_zero_never_fires(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    await set_faults(emulator, {"status": 500, "rate": 0})
    for _ in range(5):
        async with http.get(INCIDENTS) as response:
            assert response.status == 200


async def test_rate_limit_answers_429_with_headers_after_limit(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await set_faults(emulator, {"rate_limit": {"limit": 2, "retry_after": 7}})
    for _ in range(2):
        async with http.get(INCIDENTS) as response:
            assert response.status == 200
            assert response.headers["X-RateLimit-Limit"] == "2"
    async with http.get(INCIDENTS) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "7"
        assert response.headers["X-RateLimit-Limit"] == "2"
        assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
        assert len(response.headers["X-RateLimit-Rule"]) == 32
        body = await response.json()
    assert body["error"]["message"] == "Rate limit exceeded" and body["status"] == "failure"


async def test_latency_fault_delays_calls(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    await set_faults(emulator, {"latency_ms": 200})
    started = time.monotonic()
    async with http.get(INCIDENTS) as response:
        assert response.status == 200
    assert time.monotonic() - started >= 0.2
