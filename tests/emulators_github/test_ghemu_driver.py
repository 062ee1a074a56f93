"""The driver API, the issue page, persistence, and generated bodies and queries (never a 5xx)."""

from __future__ import annotations

import json

from ghemu_support import AUTH, REPO, emulator_config, new_issue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulators.github import create_github_emulator


async def test_driver_lists_every_issue_and_reset_clears_everything(gh):
    await new_issue(gh, title="one", body="b1", labels=["x"])
    await gh.post(f"/repos/{REPO}/issues/1/comments", json={"body": "c1"}, headers=AUTH)
    await gh.post("/_emulator/faults", json={"latency_ms": 1})
    issues = await (await gh.get("/_emulator/issues")).json()
    assert [(i["repo"], i["number"], i["title"], i["body"], i["labels"]) for i in issues] == [
        (REPO, 1, "one", "b1", ["x"])
    ]
    assert [c["body"] for c in issues[0]["comments"]] == ["c1"]
    calls = await (await gh.get("/_emulator/calls")).json()
    assert [c["method"] for c in calls] == ["POST", "POST"]
    assert (await gh.post("/_emulator/reset")).status == 200
    assert await (await gh.get("/_emulator/issues")).json() == []
    assert await (await gh.get("/_emulator/faults")).json() == {}
    assert (await new_issue(gh))["number"] == 1


async def test_the_html_url_opens_a_page_on_the_emulator(gh):
    created = await new_issue(gh, title="<b>kiosk</b>", body="details")
    path = created["html_url"].split("//", 1)[1].split("/", 1)[1]
    resp = await gh.get("/" + path)
    text = await resp.text()
    assert resp.status == 200 and "&lt;b&gt;kiosk&lt;/b&gt;" in text and "details" in text
    assert (await gh.get(f"/{REPO}/issues/99")).status == 404


async def test_issues_survive_a_restart_with_a_state_dir(aiohttp_client, tmp_path):
    first = await aiohttp_client(create_github_emulator(emulator_config(state_dir=tmp_path)))
    await new_issue(first, title="kept", labels=["go-live"])
    second = await aiohttp_client(create_github_emulator(emulator_config(state_dir=tmp_path)))
    body = await (await second.get(f"/repos/{REPO}/issues/1", headers=AUTH)).json()
    assert (body["title"], [label["name"] for label in body["labels"]]) == ("kept", ["go-live"])
    assert (await new_issue(second))["number"] == 2


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.dictionaries(
    st.sampled_from(
        ["title", "body", "labels", "assignees", "assignee", "milestone", "state", "state_reason"]
    ),
    _JSON | st.lists(st.sampled_from(["jane-doe", "go-live", "", "x" * 60]), max_size=3),
    max_size=5,
)
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(derandomize=True, max_examples=120, deadline=None, suppress_health_check=_SLOW)
@given(body=_FIELDS | _JSON)
async def test_generated_bodies_never_get_a_5xx(gh_unlimited, body):
    raw = json.dumps(body).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    created = await gh_unlimited.post(f"/repos/{REPO}/issues", data=raw, headers=headers)
    assert created.status in (201, 400, 422), (created.status, body)
    if not (await gh_unlimited.get(f"/repos/{REPO}/issues/1", headers=AUTH)).status == 200:
        await new_issue(gh_unlimited)
    for method, path in (("PATCH", f"/repos/{REPO}/issues/1"), ("POST", f"/repos/{REPO}/issues/1/comments")):
        resp = await gh_unlimited.request(method, path, data=raw, headers=headers)
        assert resp.status < 500, (method, resp.status, body)


@settings(derandomize=True, max_examples=150, deadline=None, suppress_health_check=_SLOW)
@given(
    q=st.text(max_size=60)
    | st.lists(st.sampled_from(["repo:", "label:", "in:", "is:", '"', "-", "no:", "x", " "]), max_size=8).map(
        "".join
    ),
    page=st.text(max_size=4),
    per_page=st.text(max_size=4),
    sort=st.text(max_size=8),
)
async def test_generated_searches_never_get_a_5xx(gh_unlimited, q, page, per_page, sort):
    params = {"q": q, "page": page, "per_page": per_page, "sort": sort, "order": sort}
    resp = await gh_unlimited.get("/search/issues", params=params, headers=AUTH)
    assert resp.status < 500, (resp.status, params)
    listing = await gh_unlimited.get(
        f"/repos/{REPO}/issues", params={"labels": q, "state": sort, "page": page}, headers=AUTH
    )
    assert listing.status < 500
