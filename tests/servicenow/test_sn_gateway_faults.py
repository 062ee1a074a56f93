"""How the gateway lives through the faults the ServiceNow emulator injects: outages, throttling,
lost replies, slowness, refused connections."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest
from testkit.servicenow import Emulator, set_faults
from testkit.stack import reserve_port, wait_for

from servicenow.errors import IncidentNotFound, ServiceNowRejected, ServiceNowUnavailable
from servicenow.gateway import IncidentDraft, ServiceNowGateway

INCIDENTS = "/api/now/table/incident"


def _draft(cid: str = "teams-0001") -> IncidentDraft:
    return IncidentDraft(cid, "Kiosk frozen", "details", "Pat Site", "aad-1", "Scheduling Support")


def _count(emulator: Emulator, cid: str) -> int:
    return sum(1 for row in emulator.incidents() if row["correlation_id"] == cid)


async def test_outage_then_recovery_creates_exactly_one_incident(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway(backoff_base_s=0.05, backoff_max_s=0.2, max_attempts=30)
    await set_faults(emulator, {"outage": True})
    creating = asyncio.create_task(gateway.create_incident(_draft()))

    async def refused_three_times():
        return sum(1 for call in emulator.faults.calls if call[3] == 503) >= 3

    await wait_for(refused_three_times, timeout=10)
    assert not creating.done()  # still retrying through the outage
    await set_faults(emulator, None)
    record = await asyncio.wait_for(creating, 10)
    assert record.number == "INC0010001"
    assert _count(emulator, "teams-0001") == 1


async def test_outage_longer_than_attempts_raises_unavailable(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway(max_attempts=3)
    await set_faults(emulator, {"outage": True})
    with pytest.raises(ServiceNowUnavailable) as raised:
        await gateway.create_incident(_draft())
    assert raised.value.status == 503 and raised.value.retryable
    assert "Kiosk" not in str(raised.value)  # no incident text in errors
    assert emulator.incidents() == []


async def test_retry_after_429_create_makes_exactly_one_incident(
    emulator: Emulator, http: aiohttp.ClientSession, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway()
    await set_faults(emulator, {"rate_limit": {"limit": 2, "retry_after": 1}})
    async with http.get(INCIDENTS) as response:  # uses one of the two calls of this window
        assert response.status == 200
    record = await gateway.create_incident(_draft())
    assert _count(emulator, "teams-0001") == 1 and record.number == "INC0010001"
    calls = list(emulator.faults.calls)
    refused = next(i for i, call in enumerate(calls) if call[3] == 429)
    waited = calls[refused + 1][0] - calls[refused][0]
    assert waited >= 1.0  # Retry-After: 1 honoured before the next call


async def test_retry_after_longer_than_backoff_cap_is_handed_back(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway(backoff_max_s=0.5)
    await set_faults(emulator, {"rate_limit": {"limit": 0, "retry_after": 30}})
    with pytest.raises(ServiceNowUnavailable) as raised:
        await gateway.find_by_correlation_id("teams-x")
    assert raised.value.status == 429 and raised.value.retry_after == 30


@pytest.mark.parametrize("delay_ms", [0, 700], ids=["reset-after-commit", "read-timeout-after-commit"])
async def test_lost_reply_after_commit_makes_exactly_one_incident(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway], delay_ms: int
) -> None:
    gateway = make_gateway(timeout_s=0.4)
    await set_faults(emulator, {"drop_reply_after_commit": {"count": 1, "delay_ms": delay_ms}})
    record = await gateway.create_incident(_draft("teams-lost"))
    assert _count(emulator, "teams-lost") == 1
    assert record.sys_id == emulator.incidents()[0]["sys_id"]
    posts = [call for call in emulator.faults.calls if call[1] == "POST"]
    assert len(posts) == 1  # the lookup found it; no second POST


async def test_lost_reply_on_comment_writes_it_once(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway()
    record = await gateway.create_incident(_draft("teams-c"))
    await set_faults(emulator, {"drop_reply_after_commit": {"count": 1, "methods": ["PUT"]}})
    await gateway.add_comment(record.sys_id, "a reply ^NQ with a caret")
    values = [j["value"] for j in emulator.store.journal(record.sys_id)]
    assert values == ["a reply ^NQ with a caret"]


async def test_repeated_create_returns_the_existing_incident(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    first = await gateway.create_incident(_draft("teams-dup"))
    second = await gateway.create_incident(_draft("teams-dup"))
    assert first.sys_id == second.sys_id and _count(emulator, "teams-dup") == 1


async def test_concurrent_creates_of_one_correlation_id_make_one_incident(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    await set_faults(emulator, {"latency_ms": 30})
    records = await asyncio.gather(*(gateway.create_incident(_draft("teams-race")) for _ in range(5)))
    assert len({r.sys_id for r in records}) == 1 and _count(emulator, "teams-race") == 1


async def test_concurrency_cap_is_respected(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway(max_concurrency=3)
    created = await gateway.create_incident(_draft("teams-cap"))
    await set_faults(emulator, {"latency_ms": 150})
    emulator.faults.max_in_flight = 0
    await asyncio.gather(*(gateway.get_incident(created.sys_id) for _ in range(10)))
    assert emulator.faults.max_in_flight == 3


async def test_server_error_status_is_retried(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    await set_faults(emulator, {"status": 502, "count": 2})
    assert await gateway.find_by_correlation_id("teams-none") is None


async def test_client_error_is_rejected_without_retry(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    await set_faults(emulator, {"status": 403})
    with pytest.raises(ServiceNowRejected) as raised:
        await gateway.find_by_correlation_id("teams-none")
    assert raised.value.status == 403
    assert len(emulator.faults.calls) == 1


async def test_wrong_password_is_rejected_401(emulator: Emulator) -> None:
    from servicenow.gateway import ServiceNowConfig

    async with ServiceNowGateway(
        ServiceNowConfig(emulator.base_url, "admin", "nope", timeout_s=2)
    ) as gateway:
        with pytest.raises(ServiceNowRejected) as raised:
            await gateway.find_by_correlation_id("teams-none")
    assert raised.value.status == 401


async def test_unknown_incident_is_not_found(gateway: ServiceNowGateway) -> None:
    with pytest.raises(IncidentNotFound):
        await gateway.get_incident("f" * 32)
    with pytest.raises(IncidentNotFound):
        await gateway.set_state("not-a-sys-id", 2)


async def test_connection_refused_is_unavailable() -> None:
    from servicenow.gateway import ServiceNowConfig

    # A port the test holds bound but not listening: every connection to it is refused.
    with reserve_port() as closed:
        port = closed.getsockname()[1]
        config = ServiceNowConfig(
            f"http://127.0.0.1:{port}", "u", "p", timeout_s=1, max_attempts=2, backoff_base_s=0.01
        )
        async with ServiceNowGateway(config) as gateway:
            with pytest.raises(ServiceNowUnavailable):
                await gateway.get_incident("a" * 32)
