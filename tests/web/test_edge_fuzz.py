"""Generated bodies at the Teams edge (``POST /api/messages``) and the ServiceNow callback, on SQLite
and PostgreSQL: no answer is a 5xx, valid neighbours sent at the same time are stored and answered
201, and whatever was acknowledged can be processed (no dead letter, nothing left waiting)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit.fakes import FakeChat, FakeDirectory, FakeTracker
from testkit.stack import SAMPLE_NOW

from bot.app import RUNTIME, Overrides, create_app
from bot.clock import FrozenClock
from bot.settings import Environment, Settings

CHANNEL = "19:fuzz@thread.tacv2"
SECRET = "fuzz-secret"
SEQUENCE = itertools.count(1)


def valid_activity(kind: str = "message") -> dict[str, Any]:
    n = next(SEQUENCE)
    base: dict[str, Any] = {
        "type": "message",
        "id": str(10_000_000 + n),
        "timestamp": "2022-05-03T15:00:00.1234567Z",
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": "29:pat", "name": "Pat", "aadObjectId": "a1b2c3d4-0000-4000-8000-000000000001"},
        "recipient": {"id": "28:bot", "name": "Go Live Bridge"},
        "conversation": {"id": f"{CHANNEL};messageid={10_000_000 + n}", "conversationType": "channel"},
        "channelData": {
            "channel": {"id": CHANNEL},
            "team": {"id": "19:team@thread.tacv2"},
            "tenant": {"id": "t"},
        },
        "text": "<at>Go Live Bridge</at> hello",
        "entities": [
            {
                "type": "mention",
                "mentioned": {"id": "28:bot", "name": "Go Live Bridge"},
                "text": "<at>Go Live Bridge</at>",
            }
        ],
        "attachments": [{"contentType": "text/html", "content": "<p>hello</p>"}],
    }
    if kind == "edit":
        base.update(type="messageUpdate", channelData={**base["channelData"], "eventType": "editMessage"})
    elif kind == "delete":
        base.update(
            type="messageDelete", channelData={**base["channelData"], "eventType": "softDeleteMessage"}
        )
    elif kind == "invoke":
        base.update(
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": "acknowledge", "data": {"inquiry": "teams-x"}}
            },
        )
    elif kind == "channel":
        base.update(
            type="conversationUpdate",
            channelData={
                **base["channelData"],
                "eventType": "channelCreated",
                "channel": {"id": f"19:c{n}@thread.tacv2", "name": "Go Live - 999 Test"},
            },
        )
    elif kind == "personal":
        base.update(
            conversation={"id": f"a:personal-{n}", "conversationType": "personal"},
            channelData={"tenant": {"id": "t"}},
        )
    return base


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "message",
            "invoke",
            "adaptiveCard/action",
            "Action.Execute",
            "\x00",
            "19:x;messageid=1",
            "2022-13-45",
            "x" * 500,
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
PATHS = [
    ("type",), ("id",), ("timestamp",), ("from",), ("from", "id"), ("from", "aadObjectId"), ("from", "name"),
    ("recipient",), ("conversation",), ("conversation", "id"), ("conversation", "conversationType"),
    ("channelData",), ("channelData", "tenant"), ("channelData", "eventType"), ("channelData", "channel"),
    ("text",), ("entities",), ("attachments",), ("value",), ("value", "action"), ("replyToId",), ("name",),
    ("membersAdded",), ("serviceUrl",), ("channelId",),
]  # fmt: skip


@st.composite
def mutated_activity(draw: Any) -> bytes:
    activity = valid_activity(
        draw(st.sampled_from(["message", "edit", "delete", "invoke", "channel", "personal"]))
    )
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        target = activity
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if draw(st.booleans()):
            target.pop(path[-1], None)
        else:
            target[path[-1]] = draw(json_values)
    return json.dumps(activity).encode()


def nested(depth: int) -> bytes:
    return b'{"type":"message","value":' + b"[" * depth + b"]" * depth + b"}"


specials = st.sampled_from(
    [
        b"",
        b"not json",
        b"[]",
        b'"a string"',
        b'{"type": NaN}',
        b'{"type": "message", "value": Infinity}',
        b'{"type": "message", "value": 1e999}',
        b'{"type": "message", "text": "\\ud800"}',
        b'{"type": "message", "text": "a\\u0000b"}',
        b'{"type": "message", "text": "\xff\xfe"}',
        nested(63),
        nested(64),
        nested(65),
        nested(2000),
        b'{"type": "invoke", "name": "adaptiveCard/action", "value": "x"}',
        b'{"type": "invoke", "name": "composeExtension/query", "conversation": {"id": "a:1"}}',
    ]
)
bodies = st.one_of(mutated_activity(), specials, st.builds(lambda v: json.dumps(v).encode(), json_values))


@pytest.fixture
async def edge(database_url):
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        servicenow_url="http://x.invalid",
        servicenow_callback_secret=SECRET,
    )
    app = create_app(
        settings,
        Overrides(
            clock=FrozenClock(SAMPLE_NOW),
            tracker=FakeTracker(),
            teams=FakeChat(),
            directory=FakeDirectory(),
            run_background=False,
        ),
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    app[RUNTIME].inbox.start()  # the group commit, as in production
    yield client
    await client.close()


async def post(client: TestClient, path: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    response = await client.post(
        path, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    await response.read()
    return response.status


FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@FUZZ
@given(batch=st.lists(bodies, min_size=50, max_size=50))
async def test_generated_activities_never_get_a_5xx_nor_harm_valid_neighbours(
    edge: TestClient, batch: list[bytes]
):
    """100 batches of 50 generated bodies (5,000), each sent together with 5 valid activities."""
    neighbours = [json.dumps(valid_activity()).encode() for _ in range(5)]
    statuses = await asyncio.gather(*(post(edge, "/api/messages", body) for body in [*batch, *neighbours]))
    assert max(statuses) < 500, statuses
    assert statuses[-5:] == [201] * 5
    runtime = edge.server.app[RUNTIME]
    await runtime.processor.drain()
    assert await runtime.dead_letters.counts() == (0, 0), "an acknowledged activity could not be processed"


def sign(body: bytes, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


callback_bodies = st.one_of(
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.builds(lambda v: json.dumps({"sys_id": v, "sys_mod_count": 3}).encode(), json_values),
    st.builds(lambda v: json.dumps({"sys_id": "a" * 32, "sys_mod_count": v}).encode(), json_values),
    st.sampled_from(
        [b'{"sys_id": "ab", "sys_mod_count": Infinity}', b"{", nested(70), b'{"sys_id": "a\\u0000"}']
    ),
)
headers = st.one_of(
    st.just("signed"),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.sampled_from(
        ["t=²,v1=00", "t=1,v1=zz", "t=,v1=", "v1=" + "0" * 64, "t=99999999999999,v1=" + "0" * 64]
    ),
)


@FUZZ
@given(batch=st.lists(st.tuples(callback_bodies, headers), min_size=50, max_size=50))
async def test_generated_servicenow_callbacks_never_get_a_5xx(
    edge: TestClient, batch: list[tuple[bytes, str]]
):
    statuses = await asyncio.gather(
        *(
            post(
                edge,
                "/servicenow/events",
                body,
                {"X-Golive-Signature": sign(body) if header == "signed" else header},
            )
            for body, header in batch
        )
    )
    assert max(statuses) < 500, statuses
    good = json.dumps({"sys_id": "b" * 32, "sys_mod_count": next(SEQUENCE)}).encode()
    assert await post(edge, "/servicenow/events", good, {"X-Golive-Signature": sign(good)}) == 202


@pytest.fixture
async def production_dashboard(tmp_path):
    settings = Settings(
        env=Environment.PRODUCTION,
        database_url=f"sqlite:///{tmp_path / 'golive.db'}",
        microsoft_app_id="00000000-0000-4000-8000-0000000000aa",
        microsoft_app_password="p",
        microsoft_app_tenant_id="00000000-0000-4000-8000-0000000000bb",
        dashboard_token="s3cret-token",
    )
    client = TestClient(TestServer(create_app(settings, Overrides(run_background=False))))
    await client.start_server()
    yield client
    await client.close()


async def raw_get(client: TestClient, path: str, header: bytes) -> int:
    """A request written byte by byte, so any header bytes reach the server (clients refuse some)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"GET "
        + path.encode()
        + b" HTTP/1.1\r\nHost: test\r\nAuthorization: "
        + header
        + b"\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(header=st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")))
async def test_any_dashboard_authorization_header_gets_an_answer_not_an_error(
    production_dashboard: TestClient, header: bytes
):
    assert await raw_get(production_dashboard, "/dashboard/data.json", header) in (400, 401)
    assert await raw_get(production_dashboard, "/dashboard/data.json", b"Bearer s3cret-token") == 200
