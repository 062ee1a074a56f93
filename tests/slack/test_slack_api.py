"""The Web API client: pacing per channel, Slack's errors classified into the ports' Transient and
Permanent (429 with Retry-After, 5xx, ok:false codes), response URLs limited to Slack's hosts."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bot.ports import Permanent, Transient
from bot.slack.api import Pacer, SlackApi


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_posts_into_one_channel_are_spaced_a_second_apart_other_channels_are_not_held():
    clock = FakeTime()
    pacer = Pacer(1.0, clock.monotonic, clock.sleep)
    for channel in ("C1", "C1", "C2", "C1"):
        await pacer.turn(channel)
    assert clock.slept == [1.0, 1.0]  # the second and the third post into C1 waited; C2 did not


async def test_a_hold_after_a_429_refuses_at_once_with_the_time_left_then_lifts():
    clock = FakeTime()
    pacer = Pacer(1.0, clock.monotonic, clock.sleep)
    pacer.hold("channel C1", 30)
    clock.now += 10
    with pytest.raises(Transient) as held:
        pacer.check_hold("channel C1")
    assert held.value.retry_after == pytest.approx(20)
    pacer.check_hold("channel C2")
    clock.now += 21
    pacer.check_hold("channel C1")


def fake_slack(answers: dict[str, tuple[int, dict[str, Any], dict[str, str]]]) -> web.Application:
    async def api(request: web.Request) -> web.StreamResponse:
        status, body, headers = answers[request.match_info["method"]]
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/hooks/{code}", api_hook)
    return app


async def api_hook(request: web.Request) -> web.StreamResponse:
    return web.Response(status=int(request.match_info["code"]), headers={"Retry-After": "7"})


@pytest.fixture
async def api(aiohttp_server: Any) -> Any:
    answers = {
        "chat.postMessage": (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "12"}),
        "chat.update": (200, {"ok": False, "error": "message_not_found"}, {}),
        "chat.delete": (200, {"ok": False, "error": "internal_error"}, {}),
        "users.info": (503, {"ok": False, "error": "service_unavailable"}, {}),
        "conversations.info": (200, {"ok": False, "error": "channel_not_found"}, {}),
        "conversations.join": (200, {"ok": False, "error": "invalid_blocks"}, {}),
        "auth.test": (200, {"ok": True, "user_id": "U0BOT", "bot_id": "B0BOT"}, {}),
    }
    server = await aiohttp_server(fake_slack(answers))
    client = SlackApi("xoxb-test", str(server.make_url("/api/")))
    yield client, server
    await client.close()


async def test_a_429_is_transient_with_its_retry_after_and_holds_the_channel(api):
    client, _ = api
    with pytest.raises(Transient) as first:
        await client.call("chat.postMessage", pace="C1", channel="C1", text="x")
    assert first.value.retry_after == 12
    with pytest.raises(Transient, match="held"):  # not sent again before Retry-After has passed
        await client.call("chat.postMessage", pace="C1", channel="C1", text="x")


@pytest.mark.parametrize(
    ("method", "error", "reason"),
    [
        ("chat.update", Permanent, "message_not_found"),
        ("conversations.info", Permanent, "channel_not_found"),
        ("conversations.join", Permanent, "invalid_blocks"),
        ("chat.delete", Transient, "internal_error"),
        ("users.info", Transient, "service_unavailable"),
    ],
)
async def test_ok_false_and_http_errors_are_classified(api, method, error, reason):
    client, _ = api
    with pytest.raises(error) as raised:
        await client.call(method, read=method.startswith(("users", "conversations.info")), channel="C1")
    assert reason in raised.value.reason and method in raised.value.reason


async def test_an_unreachable_slack_is_transient():
    client = SlackApi("xoxb-test", "http://127.0.0.1:9/api/")
    try:
        with pytest.raises(Transient, match="unreachable"):
            await client.call("auth.test")
    finally:
        await client.close()


async def test_success_returns_slacks_answer(api):
    client, _ = api
    assert (await client.call("auth.test"))["user_id"] == "U0BOT"


def test_response_urls_must_be_slacks_or_the_configured_apis_host():
    client = SlackApi("xoxb-test", "http://127.0.0.1:3981/api/")
    assert client.response_url_allowed("https://hooks.slack.com/actions/T1/1/x")
    assert client.response_url_allowed("http://127.0.0.1:3981/_emulator/response_url/abc")
    assert not client.response_url_allowed("http://169.254.169.254/latest/meta-data")
    assert not client.response_url_allowed("https://hooks.slack.com.evil.example/x")


async def test_response_url_answers_are_classified(api):
    _, server = api
    client_for_hooks = SlackApi("xoxb-test", str(server.make_url("/api/")))
    try:
        with pytest.raises(Transient) as throttled:
            await client_for_hooks.respond(str(server.make_url("/hooks/429")), {"text": "x"})
        assert throttled.value.retry_after == 7
        with pytest.raises(Permanent):
            await client_for_hooks.respond(str(server.make_url("/hooks/404")), {"text": "x"})
        await client_for_hooks.respond(str(server.make_url("/hooks/200")), {"text": "x"})
        with pytest.raises(Permanent):
            await client_for_hooks.respond("http://192.0.2.1/hook", {"text": "x"})
    finally:
        await client_for_hooks.close()
