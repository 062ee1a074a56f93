"""Generated calls at the Web API edge: any body or parameters get 200 ok:false or a 4xx, never a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slackemu_support import AUTH, ENGINEER, STAFF, fixture

from emulators.slack.web_methods import METHODS

ARG_NAMES = [
    "channel", "text", "blocks", "attachments", "thread_ts", "ts", "message_ts", "user", "email", "cursor",
    "limit", "oldest", "latest", "inclusive", "types", "exclude_archived", "name", "view", "trigger_id",
    "reply_broadcast", "error", "token",
]  # fmt: skip
SAMPLES = ["C0NOSUCH00", "1651590000.000100", "#check-in-go-live", "[]", "[{}]", "{}", "0", "-1", "/golive"]
SAMPLES += [STAFF.user_id, ENGINEER.email]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(SAMPLES),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
methods = st.sampled_from([*sorted(METHODS), "unknown.method", "chat.postMessages"])
json_args = st.dictionaries(st.sampled_from(ARG_NAMES) | st.text(max_size=10), json_values, max_size=6)
string_args = st.dictionaries(
    st.sampled_from(ARG_NAMES) | st.text(max_size=10), st.text(max_size=60), max_size=6
)


def assert_slack_answer(status: int, raw: bytes) -> None:
    assert status < 500, raw[:300]
    body = json.loads(raw)
    assert body["ok"] in (True, False)
    if status >= 400 or body["ok"] is False:
        assert isinstance(body["error"], str) and body["error"]


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(method=methods, args=json_args)
async def test_json_bodies_never_get_a_5xx(emulator: TestClient, method: str, args: dict[str, Any]):
    resp = await emulator.post(
        f"/api/{method}", data=json.dumps(args), headers=AUTH | {"Content-Type": "application/json"}
    )
    assert_slack_answer(resp.status, await resp.read())


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(method=methods, args=string_args, use_get=st.booleans())
async def test_form_bodies_and_query_parameters_never_get_a_5xx(
    emulator: TestClient, method: str, args: dict[str, str], use_get: bool
):
    if use_get:
        resp = await emulator.get(f"/api/{method}", params=args, headers=AUTH)
    else:
        form = urlencode(args).encode()
        headers = AUTH | {"Content-Type": "application/x-www-form-urlencoded"}
        resp = await emulator.post(f"/api/{method}", data=form, headers=headers)
    assert_slack_answer(resp.status, await resp.read())


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=methods,
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
)
async def test_raw_bytes_never_get_a_5xx(emulator: TestClient, method: str, raw: bytes, content_type: str):
    headers = AUTH | ({"Content-Type": content_type} if content_type else {})
    resp = await emulator.post(f"/api/{method}", data=raw, headers=headers)
    assert_slack_answer(resp.status, await resp.read())


async def test_recorded_slack_answers_satisfy_the_same_check():
    """The fuzz check accepts what Slack itself answers (so it tests the emulator, not a made-up rule)."""
    for name in ("web_chat_postMessage_ok.json", "web_error_user_not_found.json", "web_users_info.json"):
        assert_slack_answer(200, json.dumps(fixture(name)).encode())


DRIVER_PATHS = [
    "/_emulator/channels/{channel}/messages",
    "/_emulator/channels/{channel}/messages/1651590000.000100/edit",
    "/_emulator/channels/{channel}/messages/1651590000.000100/delete",
    "/_emulator/channels/{channel}/members",
    "/_emulator/channels",
    "/_emulator/actions",
    "/_emulator/slash",
    "/_emulator/redeliver",
    "/_emulator/faults",
    "/_emulator/url_verification",
]
DRIVER_KEYS = ["user", "text", "thread_ts", "channel", "message_ts", "action_id", "value", "command", "name",
               "event_id", "retry_num", "retry_reason", "new_event_id", "signature", "timestamp_skew_s",
               "status", "rate_limit", "latency_ms", "error", "count", "methods"]  # fmt: skip


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(DRIVER_PATHS),
    body=st.one_of(st.dictionaries(st.sampled_from(DRIVER_KEYS), json_values, max_size=6), json_values),
)
async def test_driver_calls_never_get_a_5xx(emulator: TestClient, path: str, body: Any):
    channels = await (await emulator.get("/_emulator/channels")).json()
    resp = await emulator.post(path.format(channel=channels["channels"][0]["id"]), json=body)
    assert resp.status < 500, await resp.text()
    await emulator.delete("/_emulator/faults")
