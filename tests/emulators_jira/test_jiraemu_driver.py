"""Faults, dropped replies, the driver API, persistence, and generated input (never a 5xx)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jiraemu_support import API_TOKEN, AUTH, adf, new_issue


async def test_rate_limit_fault_answers_429_with_retry_after(jira):
    await jira.post("/_emulator/faults", json={"rate_limit": {"count": 1, "retry_after": 7}})
    resp = await jira.post("/rest/api/3/search/jql", json={"jql": "project = GOLIVE"}, headers=AUTH)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "7"
    assert set(await resp.json()) == {"errorMessages", "errors"}
    assert (
        await jira.post("/rest/api/3/search/jql", json={"jql": "project = GOLIVE"}, headers=AUTH)
    ).status == 200


async def test_status_fault_and_revoked_token(jira):
    await jira.post("/_emulator/faults", json={"status": 503, "count": 1})
    assert (await jira.get("/rest/api/3/myself", headers=AUTH)).status == 503
    await jira.post("/_emulator/faults", json={"revoked_tokens": [API_TOKEN]})
    assert (await jira.get("/rest/api/3/myself", headers=AUTH)).status == 401
    await jira.delete("/_emulator/faults")
    assert (await jira.get("/rest/api/3/myself", headers=AUTH)).status == 200


async def test_a_dropped_reply_still_creates_the_issue_and_jql_finds_it(jira):
    await jira.post("/_emulator/faults", json={"drop_reply": True})
    fields = {
        "project": {"key": "GOLIVE"},
        "issuetype": {"name": "Task"},
        "summary": "x",
        "labels": ["marker-9c1"],
    }
    with pytest.raises(aiohttp.ClientError):
        await jira.post("/rest/api/3/issue", json={"fields": fields}, headers=AUTH)
    await jira.delete("/_emulator/faults")
    body = await (
        await jira.post("/rest/api/3/search/jql", json={"jql": "labels = marker-9c1"}, headers=AUTH)
    ).json()
    assert len(body["issues"]) == 1


async def test_driver_lists_issues_and_reset_clears_them(jira):
    await new_issue(jira, summary="kiosk", description=adf("details here"))
    issues = await (await jira.get("/_emulator/issues")).json()
    assert [(i["key"], i["summary"], i["description_text"]) for i in issues] == [
        ("GOLIVE-1", "kiosk", "details here")
    ]
    calls = await (await jira.get("/_emulator/calls")).json()
    assert calls == [{"method": "POST", "path": "/rest/api/3/issue", "status": 201}]
    await jira.post("/_emulator/reset")
    assert await (await jira.get("/_emulator/issues")).json() == []
    assert (await new_issue(jira))["key"] == "GOLIVE-1"


async def test_browse_page_shows_the_issue(jira):
    await new_issue(jira, summary="<kiosk>")
    resp = await jira.get("/browse/GOLIVE-1")
    assert resp.status == 200 and "&lt;kiosk&gt;" in await resp.text()
    assert (await jira.get("/browse/GOLIVE-9")).status == 404


async def test_issues_survive_a_restart_with_a_state_dir(make_client, tmp_path):
    first = await make_client(state_dir=tmp_path)
    await new_issue(first, summary="kept")
    second = await make_client(state_dir=tmp_path)
    body = await (await second.get("/rest/api/3/issue/GOLIVE-1", headers=AUTH)).json()
    assert body["fields"]["summary"] == "kept"
    assert (await new_issue(second))["key"] == "GOLIVE-2"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
_FIELD_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "project": st.sampled_from([{"key": "GOLIVE"}, {"id": "10000"}, {"id": 10000}, {"key": 5}]) | _JSON,
        "issuetype": st.sampled_from([{"name": "Task"}, {"id": "10002"}, {"name": None}]) | _JSON,
        "summary": st.text(max_size=300) | _JSON,
        "description": st.just(adf("x")) | _JSON,
        "labels": st.lists(st.text(max_size=12), max_size=3) | _JSON,
        "assignee": _JSON,
        "priority": st.sampled_from([{"name": "High"}, {"id": "1"}]) | _JSON,
    },
)
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(derandomize=True, max_examples=150, deadline=None, suppress_health_check=_SLOW)
@given(body=st.fixed_dictionaries({"fields": _FIELD_VALUES}) | _JSON)
async def test_generated_create_bodies_never_get_a_5xx(jira, body):
    resp = await jira.post(
        "/rest/api/3/issue", data=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp.status in (201, 400), (resp.status, body)


_JQL_PARTS = st.sampled_from(
    [
        "project",
        "=",
        "GOLIVE",
        "AND",
        "OR",
        "NOT",
        "summary",
        "~",
        '"x"',
        "labels",
        "in",
        "(",
        ")",
        ",",
        "is",
        "EMPTY",
        "ORDER",
        "BY",
        "created",
        "DESC",
        "'",
        '"',
        "currentUser()",
        "!=",
        "key",
        "GOLIVE-1",
        "<",
        "2022-05-03",
    ]
)


@settings(derandomize=True, max_examples=200, deadline=None, suppress_health_check=_SLOW)
@given(
    jql=st.text(max_size=60) | st.lists(_JQL_PARTS, max_size=9).map(" ".join),
    extra=st.dictionaries(st.sampled_from(["maxResults", "nextPageToken", "fields"]), _JSON, max_size=3),
)
async def test_generated_jql_never_gets_a_5xx(jira, jql, extra):
    resp = await jira.post("/rest/api/3/search/jql", json={"jql": jql, **extra}, headers=AUTH)
    assert resp.status in (200, 400), (resp.status, jql, extra)
    params = {"jql": jql, **{k: str(v) for k, v in extra.items()}}
    resp = await jira.get("/rest/api/3/search/jql", params=params, headers=AUTH)
    assert resp.status in (200, 400), (resp.status, params)
