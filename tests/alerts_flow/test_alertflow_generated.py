"""Generated deliveries at every alert endpoint, on SQLite and PostgreSQL: 5,000 bodies per endpoint
(recorded payloads with values replaced, removed or added, any JSON, any bytes; most correctly
signed so the parser sees them, some not) get no 5xx, and the valid deliveries sent between them are
stored, processed and counted as if they had been alone. Processing leaves no dead letter.

The bodies are generated once per endpoint by Hypothesis, seeded (``derandomize``), then sent.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from alertflow_support import SECRETS, AlertBridge, alert_bridge, recorded
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.alerts import Source
from bot.alerts.samples import sample_payload
from bot.storage import tables

BODIES_PER_ENDPOINT = 5000
NEIGHBOUR_EVERY = 100
ANSWERS = {200, 202, 400, 401, 413}
RECORDED: dict[Source, tuple[str, ...]] = {
    "sentry": (
        "issue_created",
        "issue_resolved",
        "event_alert_triggered",
        "metric_alert_critical",
        "metric_alert_resolved",
    ),
    "datadog": ("monitor_triggered", "monitor_recovered", "test_notification"),
    "pagerduty": ("incident_triggered", "incident_acknowledged", "incident_resolved"),
    "bugsnag": ("first_exception", "error_state_fixed"),
}

# Flat strategies (no recursion) keep generation cheap: 5,000 deliveries in a few seconds.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "$ALERT_ID", "https://x.example/a", "javascript:x", "9" * 130, "a b", "\u202e"]),
    st.text(max_size=12),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=6), scalars, max_size=3),
    st.lists(st.lists(scalars, max_size=2), max_size=2),
)
# A mutation: (which value, by its index among the document's paths; what to do; the new value).
mutations = st.tuples(
    st.integers(min_value=0, max_value=10**6), st.sampled_from(["replace", "delete", "add"]), values
)
# A delivery: (which recorded payload; what kind of body; its mutations; any JSON; any bytes; signed?)
deliveries = st.tuples(
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["mutated", "mutated", "mutated", "json", "bytes"]),
    st.lists(mutations, min_size=1, max_size=3),
    values,
    st.binary(max_size=200),
    st.integers(min_value=0, max_value=9),
)
Delivery = tuple[int, str, list[tuple[int, str, Any]], Any, bytes, int]


@cache
def generated() -> tuple[Delivery, ...]:
    """5,000 deliveries, the same on every run; each endpoint reads them against its own payloads."""
    found: list[Delivery] = []

    @settings(
        max_examples=BODIES_PER_ENDPOINT // 25,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(deliveries, min_size=25, max_size=25))
    def collect(batch: list[Delivery]) -> None:
        found.extend(batch)

    collect()
    return tuple(found)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def mutate(document: Any, mutations: list[tuple[int, str, Any]]) -> Any:
    """``document`` with each mutation applied: a value replaced, removed, or given a sibling."""
    for index, action, drawn in mutations:
        value = copy.deepcopy(drawn)  # drawn values are shared by every endpoint's run: never alias them
        paths = _paths(document)
        path = paths[index % len(paths)]
        if not path:
            return value
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[path[-1]] = value
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[f"extra{index % 7}"] = value
        else:
            parent.append(value)
    return document


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def body_for(source: Source, delivery: Delivery) -> tuple[str, bytes, bool]:
    """(the recorded delivery whose headers it takes, its body, whether it is signed correctly)."""
    which, kind, changes, any_json, any_bytes, sign = delivery
    name = RECORDED[source][which % len(RECORDED[source])]
    if kind == "mutated":
        body = _encode(mutate(json.loads(recorded(source, name)[1]), changes))
    elif kind == "json":
        body = _encode(any_json)
    else:
        body = any_bytes
    return name, body, sign != 0


def request_for(source: Source, name: str, body: bytes, sign: bool) -> tuple[dict[str, str], dict[str, str]]:
    headers, _, query = recorded(source, name)
    secret = SECRETS[source] if sign else "not the secret"
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if source == "sentry":
        headers["Sentry-Hook-Signature"] = digest
        headers["Sentry-Hook-Timestamp"] = str(int(time.time()))
    elif source == "pagerduty":
        headers["X-PagerDuty-Signature"] = f"v1={digest}"
    elif source == "datadog":
        headers["X-Golive-Token"] = secret
    else:
        query = {"token": secret}
    return headers, query


@pytest.fixture
async def flow(database_url: str, tmp_path: Path) -> AsyncIterator[AlertBridge]:
    async with alert_bridge(tmp_path, database_url=database_url) as alerts:
        alerts.bridge.runtime.inbox.start()  # group commit, as in production
        try:
            yield alerts
        finally:
            await alerts.bridge.runtime.inbox.close()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["sentry", "datadog", "pagerduty", "bugsnag"])
async def test_generated_deliveries_get_no_5xx_and_leave_neighbours_whole(
    flow: AlertBridge, source: Source
) -> None:
    bodies = [body_for(source, delivery) for delivery in generated()]
    assert len(bodies) >= BODIES_PER_ENDPOINT
    statuses: dict[int, int] = {}
    neighbours: list[str] = []

    async def send(name: str, body: bytes, sign: bool) -> None:
        headers, query = request_for(source, name, body, sign)
        response = await flow.send(source, headers, body, query)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        assert response.status in ANSWERS, (response.status, await response.text())

    for start in range(0, len(bodies), NEIGHBOUR_EVERY):
        chunk = bodies[start : start + NEIGHBOUR_EVERY]
        await asyncio.gather(*(send(*delivery) for delivery in chunk))
        group = f"neighbour-{start}"
        headers, body, query = sample_payload(
            source, secret=SECRETS[source], now=datetime.now(UTC), group=group
        )
        assert (await flow.send(source, headers, body, query)).status == 202
        neighbours.append(group)

    assert statuses.get(401, 0) > 0 and statuses.get(400, 0) > 0 and statuses.get(202, 0) > len(neighbours)
    await flow.drain()
    rows = {row.group_key: row for row in await flow.rows()}
    for group in neighbours:
        assert rows[group].count == 1 and rows[group].source == source
    async with flow.bridge.runtime.store.read() as connection:
        dead = await connection.scalar(
            select(func.count())
            .select_from(tables.received_activities)
            .where(tables.received_activities.c.dead_at.is_not(None))
        )
        waiting = await connection.scalar(
            select(func.count())
            .select_from(tables.received_activities)
            .where(tables.received_activities.c.processed_at.is_(None))
        )
    assert (dead, waiting) == (0, 0)
