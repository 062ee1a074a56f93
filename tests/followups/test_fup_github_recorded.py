"""The GitHub follow-up tracker against GitHub's recorded answers (tests/fixtures/github): the create
201, an issue, the listing and search it finds issues by, its rate-limit and error answers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from fup_support import REPO, answer, recorded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.followups.github import GitHubConfig, GitHubFollowUps
from bot.ports import FollowUp, FollowUpRequest, Permanent, PortError, Transient

ISSUES = f"/repos/{REPO}/issues"
MARKER = "golive-followup: INC0010001"
REQUEST = FollowUpRequest(
    marker=MARKER,
    title="INC0010001: Kiosk shows error E42",
    body=f"Follow-up of ServiceNow incident INC0010001: https://sn.example/INC0010001\n\n{MARKER}",
    labels=("go-live", "follow-up"),
    assignee="jane-doe",
)
NOW = 1714070000.0  # 400 s before the recorded primary limit's reset


def tracker(url: str) -> GitHubFollowUps:
    return GitHubFollowUps(GitHubConfig(url, "ghp_recorded", REPO), wall_clock=lambda: NOW)


def fixed(document: dict[str, Any]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return answer(document)

    return handler


async def test_create_sends_title_body_labels_and_assignee_and_reads_the_201(recorder):
    server, url = recorder
    server.on("POST", ISSUES, fixed(recorded("github", "create_issue_201.json")))
    github = tracker(url)
    try:
        issue = await github.create(REQUEST)
    finally:
        await github.close()
    assert issue == FollowUp(
        "#1",
        "https://github.com/octokit-fixture-org/add-labels-to-issue/issues/1",
        "open",
        issue.opened_on,
        None,
    )
    [(method, path, _, headers, body)] = server.requests
    assert (method, path) == ("POST", ISSUES)
    assert body == {
        "title": REQUEST.title,
        "body": REQUEST.body,
        "labels": ["go-live", "follow-up"],
        "assignees": ["jane-doe"],
    }
    assert headers["Authorization"] == "Bearer ghp_recorded"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"


async def test_find_reads_the_newest_issues_then_searches_and_needs_the_marker_as_a_whole_line(recorder):
    server, url = recorder
    search = recorded("github", "search_issues.json")
    items = search["body"]["items"]
    items[0] = {**items[0], "body": f"Asked for in Teams.\n\n{MARKER}0"}  # INC00100010: not ours
    items[1] = {**items[1], "body": f"Asked for in Teams.\n\n{MARKER}\n"}
    server.on("GET", ISSUES, fixed(recorded("github", "list_issues_page1.json")))
    server.on("GET", "/search/issues", fixed(search))
    github = tracker(url)
    try:
        found = await github.find(MARKER)
    finally:
        await github.close()
    assert found is not None and found.key == f"#{items[1]['number']}" and found.url == items[1]["html_url"]
    (_, _, listing, _, _), (_, _, query, _, _) = server.requests
    assert listing == {"state": "all", "sort": "created", "direction": "desc", "per_page": "100"}
    assert query["q"] == f'repo:{REPO} in:body "{MARKER}"'


async def test_find_prefers_a_fresh_issue_in_the_listing_and_skips_the_search(recorder):
    server, url = recorder
    listing = recorded("github", "list_issues_page1.json")
    listing["body"][1] = {**listing["body"][1], "body": f"x\r\n{MARKER}\r\n"}
    server.on("GET", ISSUES, fixed(listing))
    github = tracker(url)
    try:
        found = await github.find(MARKER)
    finally:
        await github.close()
    assert found is not None and found.key == f"#{listing['body'][1]['number']}"
    assert server.calls() == [("GET", ISSUES)]


async def test_get_reads_the_issue_and_its_state(recorder):
    server, url = recorder
    issue = recorded("github", "issue.json")
    closed = copy.deepcopy(issue)
    closed["body"]["state"] = "closed"
    server.on("GET", f"{ISSUES}/13", fixed(closed))
    github = tracker(url)
    try:
        follow_up = await github.get("#13")
        with pytest.raises(Permanent, match="#14 is not in"):
            await github.get("#14")
    finally:
        await github.close()
    assert (follow_up.key, follow_up.state, str(follow_up.opened_on)) == ("#13", "closed", "2017-10-10")


@pytest.mark.parametrize(
    ("fixture", "status", "delay"),
    [
        ("primary_rate_limit_403.json", 403, 400.0),  # until x-ratelimit-reset
        ("primary_rate_limit_403.json", 429, 400.0),
        ("secondary_rate_limit_403.json", 403, 60.0),  # retry-after
        ("secondary_rate_limit_403.json", 429, 60.0),
    ],
)
async def test_a_rate_limit_is_transient_with_the_delay_github_names(recorder, fixture, status, delay):
    server, url = recorder
    document = recorded("github", fixture)

    async def limited(request: web.Request) -> web.Response:
        return answer(document, status=status)

    server.on("POST", ISSUES, limited)
    github = tracker(url)
    try:
        with pytest.raises(Transient) as raised:
            await github.create(REQUEST)
    finally:
        await github.close()
    assert raised.value.retry_after == delay
    assert f"GitHub rate limit reached ({status})" in str(raised.value)


async def test_a_secondary_limit_without_retry_after_waits_a_minute(recorder):
    server, url = recorder
    document = recorded("github", "secondary_rate_limit_403.json")
    document["headers"] = {"x-ratelimit-resource": "core"}
    server.on("POST", ISSUES, fixed(document))
    github = tracker(url)
    try:
        with pytest.raises(Transient) as raised:
            await github.create(REQUEST)
    finally:
        await github.close()
    assert raised.value.retry_after == 60.0


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (
            401,
            recorded("github", "bad_credentials_401.json")["body"],
            "GOLIVE_GITHUB_TOKEN was refused (401): Bad credentials",
        ),
        (
            403,
            {"message": "Resource not accessible by personal access token"},
            "GOLIVE_GITHUB_TOKEN may not create issues",
        ),
        (404, {"message": "Not Found"}, f"GOLIVE_GITHUB_REPO {REPO} was not found"),
        (410, {"message": "Issues are disabled for this repo"}, "issues are disabled in GOLIVE_GITHUB_REPO"),
        (
            422,
            recorded("github", "validation_failed_422.json")["body"],
            "GitHub refused color (422): Validation Failed",
        ),
    ],
)
async def test_a_refusal_is_permanent_and_names_the_setting_at_fault(recorder, status, body, words):
    server, url = recorder

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    server.on("POST", ISSUES, refuse)
    github = tracker(url)
    try:
        with pytest.raises(Permanent) as raised:
            await github.create(REQUEST)
    finally:
        await github.close()
    assert words in str(raised.value)


async def test_an_assignee_github_refuses_is_dropped_and_the_issue_filed_unassigned(recorder):
    server, url = recorder
    refused = {
        "message": "Validation Failed",
        "errors": [{"value": "jane-doe", "resource": "Issue", "field": "assignees", "code": "invalid"}],
        "status": "422",
    }

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("assignees"):
            return web.json_response(refused, status=422)
        return answer(recorded("github", "create_issue_201.json"))

    server.on("POST", ISSUES, create)
    github = tracker(url)
    try:
        issue = await github.create(REQUEST)
    finally:
        await github.close()
    assert issue.key == "#1" and issue.assignee is None
    assert [body.get("assignees") for _, _, _, _, body in server.requests] == [["jane-doe"], None]


async def test_no_server_is_transient_and_names_the_url_setting():
    github = GitHubFollowUps(GitHubConfig(f"http://127.0.0.1:{unused_port()}", "t", REPO))
    try:
        with pytest.raises(Transient, match="GOLIVE_GITHUB_API_URL"):
            await github.find(MARKER)
    finally:
        await github.close()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
_issue = st.fixed_dictionaries(
    {},
    optional={
        "number": st.integers() | _json,
        "html_url": _json,
        "state": _json,
        "body": st.just(MARKER) | _json,
    },
)


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    status=st.sampled_from([200, 201, 403, 404, 422, 429, 500]),
    body=st.one_of(
        _json, _issue, st.lists(_issue, max_size=3), st.fixed_dictionaries({"items": st.lists(_issue)})
    ),
    headers=st.dictionaries(
        st.sampled_from(["retry-after", "x-ratelimit-remaining", "x-ratelimit-reset"]),
        st.sampled_from(["0", "1", "60", "abc", "99999999999999", ""]),
    ),
)
async def test_any_answer_gives_a_follow_up_none_or_a_port_error(aiohttp_server, status, body, headers):
    async def anything(request: web.Request) -> web.Response:
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    server = await aiohttp_server(app)
    github = tracker(str(server.make_url("")).rstrip("/"))
    try:
        for call in (lambda: github.find(MARKER), lambda: github.create(REQUEST), lambda: github.get("#1")):
            try:
                result = await call()
            except Transient as error:
                assert error.retry_after is None or 0 <= error.retry_after <= 3600
            except PortError:
                pass
            else:
                assert result is None or isinstance(result, FollowUp)
    finally:
        await github.close()
