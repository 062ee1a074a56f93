"""bot.teams.graph.GraphChannelClient against the emulator's Graph: real HTTP on loopback."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from testkit.teams_emulator import FakeBot

from bot.teams.graph import (
    ChannelNameConflict,
    GraphAuthError,
    GraphChannelClient,
    GraphNotFound,
    GraphOperationFailed,
    GraphThrottled,
    MsalTokenProvider,
    StaticTokenProvider,
)
from emulators.teams.config import DEFAULT_TEAM_ID


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def graph(emulator) -> Any:
    async with aiohttp.ClientSession() as session:
        sleep = RecordingSleep()
        client = GraphChannelClient(
            session, str(emulator.make_url("/v1.0")), DEFAULT_TEAM_ID, StaticTokenProvider("t"), sleep=sleep
        )
        client.sleeps = sleep  # type: ignore[attr-defined]
        yield client


async def test_create_channel_answers_201_channel_and_lists_it(graph: GraphChannelClient, emulator):
    created = await graph.create_channel("Go Live - 508 Atlanta", "Atlanta VA go-live")
    assert created.id.startswith("19:") and created.id.endswith("@thread.tacv2")
    assert (created.display_name, created.description, created.is_archived) == (
        "Go Live - 508 Atlanta",
        "Atlanta VA go-live",
        False,
    )
    names = [c.display_name for c in await graph.list_channels()]
    assert names == ["General", "Go Live - 508 Atlanta"]
    assert (await graph.get_channel(created.id)) == created
    view = await (await emulator.get("/_emulator/channels")).json()
    assert created.id in [c["id"] for c in view["channels"]]


async def test_duplicate_channel_name_maps_409_to_channel_name_conflict_and_find_by_name(graph, emulator):
    first = await graph.create_channel("Go Live - 508 Atlanta")
    with pytest.raises(ChannelNameConflict) as caught:
        await graph.create_channel("go live - 508 atlanta")
    assert caught.value.status == 409 and caught.value.code == "NameAlreadyExists"
    assert caught.value.request_id
    assert await graph.find_channel_by_name("go live - 508 atlanta") == first
    assert await graph.find_channel_by_name("Go Live - 999 Nowhere") is None


async def test_raw_graph_409_and_404_have_graph_error_bodies(emulator):
    url = f"/v1.0/teams/{DEFAULT_TEAM_ID}/channels"
    assert (await emulator.post(url, json={"displayName": "X"})).status == 201
    resp = await emulator.post(url, json={"displayName": "X"})
    body = await resp.json()
    assert resp.status == 409 and body["error"]["code"] == "NameAlreadyExists"
    assert set(body["error"]["innerError"]) >= {"request-id", "date"}
    resp = await emulator.get("/v1.0/teams/00000000-0000-0000-0000-000000000000/channels")
    body = await resp.json()
    assert resp.status == 404 and set(body["error"]) == {"code", "message", "innerError"}
    resp = await emulator.get(
        f"/v1.0/teams/{DEFAULT_TEAM_ID}/channels", params={"$filter": "displayName eq 'X'"}
    )
    assert [c["displayName"] for c in (await resp.json())["value"]] == ["X"]
    teams = await (await emulator.get("/v1.0/teams")).json()
    assert [t["id"] for t in teams["value"]] == [DEFAULT_TEAM_ID]


async def test_unknown_channel_raises_graph_not_found(graph: GraphChannelClient):
    with pytest.raises(GraphNotFound) as caught:
        await graph.get_channel("19:0123456789abcdef0123456789abcdef@thread.tacv2")
    assert caught.value.status == 404


async def test_archive_answers_202_and_the_operation_is_followed(graph: GraphChannelClient, emulator):
    channel = await graph.create_channel("Go Live - 508 Atlanta")
    await graph.archive_channel(channel.id)
    assert (await graph.get_channel(channel.id)).is_archived is True
    await graph.unarchive_channel(channel.id)
    assert (await graph.get_channel(channel.id)).is_archived is False

    resp = await emulator.post(f"/v1.0/teams/{DEFAULT_TEAM_ID}/channels/{channel.id}/archive")
    assert resp.status == 202
    location = resp.headers["Location"]
    assert location.startswith(f"/teams/{DEFAULT_TEAM_ID}/operations/")
    op = await (await emulator.get("/v1.0" + location)).json()
    assert (op["status"], op["operationType"], op["targetResourceId"]) == (
        "succeeded",
        "archiveChannel",
        channel.id,
    )


async def test_archive_polls_an_in_progress_operation_until_done_and_bounds_the_wait(make_emulator):
    client = await make_emulator(graph_operation_polls=2)
    async with aiohttp.ClientSession() as session:
        sleep = RecordingSleep()
        graph = GraphChannelClient(
            session,
            str(client.make_url("/v1.0")),
            DEFAULT_TEAM_ID,
            StaticTokenProvider("t"),
            sleep=sleep,
            operation_poll_interval_s=0.25,
        )
        channel = await graph.create_channel("Go Live - 508 Atlanta")
        await graph.archive_channel(channel.id)
        assert sleep.delays == [0.25, 0.25]

        impatient = GraphChannelClient(
            session,
            str(client.make_url("/v1.0")),
            DEFAULT_TEAM_ID,
            StaticTokenProvider("t"),
            sleep=sleep,
            operation_max_polls=1,
        )
        with pytest.raises(GraphOperationFailed):
            await impatient.unarchive_channel(channel.id)


async def test_429_is_retried_honouring_fractional_retry_after(graph: GraphChannelClient, emulator):
    await emulator.post("/_emulator/faults", json={"graph_throttle": {"count": 2, "retry_after": 0.25}})
    channels = await graph.list_channels()
    assert [c.display_name for c in channels] == ["General"]
    assert graph.sleeps.delays == [0.25, 0.25]  # type: ignore[attr-defined]


async def test_persistent_429_surfaces_as_graph_throttled_after_bounded_attempts(graph, emulator):
    await emulator.post("/_emulator/faults", json={"graph_throttle": {"count": -1, "retry_after": 1.5}})
    resp = await emulator.get(f"/v1.0/teams/{DEFAULT_TEAM_ID}")
    assert resp.status == 429 and resp.headers["Retry-After"] == "1.5"
    assert (await resp.json())["error"]["code"] == "TooManyRequests"
    with pytest.raises(GraphThrottled) as caught:
        await graph.create_channel("Go Live - 508 Atlanta")
    assert caught.value.retry_after == 1.5
    assert len(graph.sleeps.delays) == 3  # type: ignore[attr-defined]  # 4 attempts in all
    await emulator.delete("/_emulator/faults")
    assert [c.display_name for c in await graph.list_channels()] == ["General"]


async def test_graph_requires_a_token_when_the_bot_has_an_app_id(make_emulator, fake_bot: FakeBot):
    client = await make_emulator(fake_bot.url, bot_app_id="app-123")
    resp = await client.get("/v1.0/teams")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "InvalidAuthenticationToken"
    resp = await client.get("/v1.0/teams", headers={"Authorization": "Bearer x"})
    assert resp.status == 200


def test_token_providers_mask_secrets_in_repr():
    assert "secret-value" not in repr(MsalTokenProvider("client", "secret-value", "tenant"))
    assert "s3cr3t" not in repr(StaticTokenProvider("s3cr3t"))


async def test_msal_provider_failure_becomes_graph_auth_error_without_network():
    # MSAL refuses a non-https authority before any request: the error is translated, not leaked.
    provider = MsalTokenProvider("client", "secret", "tenant", authority_host="http://127.0.0.1:9")
    with pytest.raises(GraphAuthError):
        await provider.token()
