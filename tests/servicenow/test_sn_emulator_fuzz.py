"""Generated bodies and query strings never get a 5xx from the Table API or the Batch API.

The emulator runs in a thread with its own event loop for the whole module, so Hypothesis can
drive it with plain ``requests`` calls, example after example (state piles up on purpose: later
examples meet records earlier ones wrote). No fault is active, so any 5xx is a bug.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from testkit.servicenow import ENGINEERS, PEOPLE

from emulators.servicenow import EmulatorConfig, create_servicenow_emulator

AUTH = ("admin", "admin")
FIELDS = [
    "short_description", "description", "state", "impact", "urgency", "caller_id", "assigned_to",
    "assignment_group", "resolved_by", "close_code", "comments", "work_notes", "sys_id", "number",
    "correlation_id", "hold_reason", "u_custom", "active", "sys_mod_count", "opened_by",
]  # fmt: skip
TABLES = ["incident", "sys_user", "sys_user_group", "sys_journal_field", "no_such_table"]
PARAMS = [
    "sysparm_query", "sysparm_fields", "sysparm_limit", "sysparm_offset", "sysparm_display_value",
    "sysparm_exclude_reference_link", "sysparm_suppress_pagination_header", "sysparm_no_count",
    "sysparm_input_display_value", "sysparm_view", "category", "caller_id.email", "state",
]  # fmt: skip
# Text rich in the characters the query grammar and the URL care about.
tricky_text = st.text(alphabet=st.sampled_from(list("^ORNQDEBYIKLT=!<>@,.%&+ \x00é\u2603abc01")), max_size=40)
texts = st.one_of(st.text(max_size=40), tricky_text)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
bodies = st.dictionaries(st.one_of(st.sampled_from(FIELDS), texts), json_values, max_size=6)
raw_bodies = st.one_of(
    bodies.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80),
)
query_strings = st.one_of(
    st.dictionaries(st.sampled_from(PARAMS), texts, max_size=6),
    st.lists(st.tuples(texts, texts), max_size=4),
)


@pytest.fixture(scope="module")
def live_emulator() -> Iterator[tuple[str, Any]]:
    """(base URL, app) of an emulator served from its own thread and loop."""
    loop = asyncio.new_event_loop()
    app = create_servicenow_emulator(EmulatorConfig(engineers=ENGINEERS, people=PEOPLE, batch_max_requests=5))
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(runner.addresses[0][1])

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="servicenow-emulator", daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{port[0]}", app
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        session.auth = AUTH
        session.headers["Accept"] = "application/json"
        yield session


def _sys_ids(app: Any) -> list[str]:
    from emulators.servicenow.api import STORE_KEY

    store = app[STORE_KEY]
    return [r["sys_id"] for table in ("incident", "sys_user") for r in store.rows(table)][:20]


fuzz = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@fuzz
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    table=st.sampled_from(TABLES),
    record=st.one_of(
        st.none(), st.just("known"), st.text(alphabet="0123456789abcdef", min_size=1, max_size=33)
    ),
    params=query_strings,
    body=raw_bodies,
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", None, "text/plain"]),
)
@example(
    method="POST",
    table="incident",
    record=None,
    params={},
    body=b"[" * 50000,
    content_type="application/json",
)
@example(
    method="GET", table="incident", record=None, params={"sysparm_query": "ORDERBY^ORx=1^NQ^EQ"},
    body=b"", content_type=None,
)  # fmt: skip
def test_table_api_never_answers_5xx(
    live_emulator: tuple[str, Any],
    session: requests.Session,
    method: str,
    table: str,
    record: str | None,
    params: Any,
    body: bytes,
    content_type: str | None,
) -> None:
    base, app = live_emulator
    if record == "known":
        known = _sys_ids(app)
        record = known[len(body) % len(known)] if known else None
    url = f"{base}/api/now/table/{table}" + (f"/{record}" if record else "")
    headers = {"Content-Type": content_type} if content_type else {}
    data = body if method in ("POST", "PUT", "PATCH") else None
    response = session.request(method, url, params=params, data=data, headers=headers, timeout=10)
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert response.json()["status"] == "failure"


@fuzz
@given(query=st.text(alphabet=st.sampled_from(list("%ED%A0%80%FF%C3=&^;+sysparm_query_fields")), max_size=60))
def test_raw_query_strings_never_answer_5xx(
    live_emulator: tuple[str, Any], session: requests.Session, query: str
) -> None:
    base, _ = live_emulator
    response = session.get(f"{base}/api/now/table/incident?{query}", timeout=10)
    assert response.status_code < 500, response.text[:300]


BATCH_URLS = [
    "/api/now/table/incident",
    "/api/now/v1/table/sys_user?sysparm_display_value=all",
    "/api/now/v1/batch",
    "/api/global/x",
    "http://elsewhere/api/now/table/incident",
    "",
    "/api/now/table/incident/" + "0" * 32,
    "/api/now/table/incident?sysparm_query=%ZZ",
]


def _encoded(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


batch_items = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=6), st.integers(0, 99)),
        "method": st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "get", "BREW"]),
        "url": st.one_of(
            st.sampled_from(BATCH_URLS),
            texts,
        ),
    },
    optional={
        "headers": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"name": st.sampled_from(["Accept", "Content-Type", "X"]), "value": texts}
                )
            ),
            json_values,
        ),
        "body": st.one_of(raw_bodies.map(_encoded), texts, json_values),
        "exclude_response_headers": st.one_of(st.booleans(), json_values),
    },
)
batches = st.one_of(
    st.fixed_dictionaries(
        {"rest_requests": st.lists(batch_items, max_size=8)},
        optional={"batch_request_id": json_values},
    ),
    json_values,
)


@fuzz
@given(payload=st.one_of(batches.map(lambda b: json.dumps(b).encode()), raw_bodies))
@example(payload=b'{"rest_requests": [' + b"[" * 50000 + b"]}")
def test_batch_api_never_answers_5xx(
    live_emulator: tuple[str, Any], session: requests.Session, payload: bytes
) -> None:
    base, _ = live_emulator
    headers = {"Content-Type": "application/json"}
    response = session.post(f"{base}/api/now/v1/batch", data=payload, headers=headers, timeout=10)
    assert response.status_code < 500, response.text[:300]
    answer = response.json()
    if response.status_code == 200:
        sent = json.loads(payload)["rest_requests"]
        assert all(item["status_code"] < 500 for item in answer["serviced_requests"])
        assert len(answer["serviced_requests"]) + len(answer["unserviced_requests"]) == len(sent)
        assert len(answer["serviced_requests"]) <= 5
    else:
        assert answer["status"] == "failure"
