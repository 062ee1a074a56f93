"""The Jira follow-up tracker against Jira Cloud's recorded answers (tests/fixtures/jira): the create
201, an issue, the enhanced JQL search, the 400 ErrorCollection, the plain-text 401 and the 410."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiohttp import web
from fup_support import answer, recorded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.followups.jira import JiraConfig, JiraFollowUps, adf_document, adf_text
from bot.ports import FollowUp, FollowUpRequest, Permanent, PortError, Transient

MARKER = "golive-followup: INC0010001"
REQUEST = FollowUpRequest(
    marker=MARKER,
    title="INC0010001: Kiosk shows error E42",
    body=f"Follow-up of ServiceNow incident INC0010001: https://sn.example/INC0010001\n\n{MARKER}",
    labels=("go-live", "follow-up"),
    assignee="jane-doe",
)


def tracker(url: str) -> JiraFollowUps:
    return JiraFollowUps(JiraConfig(url, "ED", "golive.bot@example.va.gov", "jira-token"))


def fixed(document: dict[str, Any], **changes: Any) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return answer(document, **changes)

    return handler


async def test_create_sends_the_fields_with_an_adf_description_and_reads_the_201(recorder):
    server, url = recorder
    server.on("POST", "/rest/api/3/issue", fixed(recorded("jira", "create_issue_201.json")))
    jira = tracker(url)
    try:
        issue = await jira.create(REQUEST)
    finally:
        await jira.close()
    assert issue == FollowUp("ED-24", f"{url}/browse/ED-24", "open")
    [(_, _, _, headers, body)] = server.requests
    expected = base64.b64encode(b"golive.bot@example.va.gov:jira-token").decode()
    assert headers["Authorization"] == f"Basic {expected}"
    fields = body["fields"]
    assert fields["project"] == {"key": "ED"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == REQUEST.title and fields["labels"] == ["go-live", "follow-up"]
    assert "assignee" not in fields  # a GitHub login means nothing to Jira
    description = fields["description"]
    assert description["type"] == "doc" and description["version"] == 1
    assert adf_text(description).splitlines() == [line for line in REQUEST.body.splitlines() if line]
    link = description["content"][0]["content"][1]
    assert link["marks"] == [{"type": "link", "attrs": {"href": "https://sn.example/INC0010001"}}]


async def test_find_searches_the_project_by_the_marker_and_checks_the_whole_line(recorder):
    server, url = recorder
    search = recorded("jira", "search_jql.json")
    hit = search["body"]["issues"][0]
    near_miss = json.loads(json.dumps(hit))
    near_miss["key"] = "ED-4930"
    near_miss["fields"]["description"] = adf_document(f"x\n{MARKER}9")
    hit["fields"]["description"] = adf_document(f"Follow-up of ServiceNow incident\n{MARKER}")
    hit["fields"]["status"] = {"name": "In Progress"}
    search["body"]["issues"] = [near_miss, hit]
    server.on("POST", "/rest/api/3/search/jql", fixed(search))
    jira = tracker(url)
    try:
        found = await jira.find(MARKER)
    finally:
        await jira.close()
    assert found == FollowUp("ED-4929", f"{url}/browse/ED-4929", "In Progress")
    [(_, path, _, _, body)] = server.requests
    assert path == "/rest/api/3/search/jql"
    assert body["jql"] == f'project = "ED" AND description ~ "\\"{MARKER}\\"" ORDER BY created DESC'
    assert "description" in body["fields"]


async def test_find_without_the_marker_finds_nothing(recorder):
    server, url = recorder
    server.on("POST", "/rest/api/3/search/jql", fixed(recorded("jira", "search_jql.json")))
    jira = tracker(url)
    try:
        assert await jira.find(MARKER) is None
    finally:
        await jira.close()


async def test_get_reads_the_status_name(recorder):
    server, url = recorder
    server.on("GET", "/rest/api/3/issue/ED-4929", fixed(recorded("jira", "issue.json")))
    jira = tracker(url)
    try:
        issue = await jira.get("ED-4929")
        with pytest.raises(Permanent, match="ED-1 was not found"):
            await jira.get("ED-1")
    finally:
        await jira.close()
    assert (issue.key, issue.state) == ("ED-4929", "Issue Closed")


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("unauthorized_401.json", "GOLIVE_JIRA_USER / GOLIVE_JIRA_TOKEN were refused (401)"),
        ("error_400.json", "summary: You must specify a summary of the issue."),
        ("search_removed_410.json", "The requested API has been removed"),
    ],
)
async def test_a_refusal_is_permanent_and_says_why(recorder, fixture, words):
    server, url = recorder
    server.on("POST", "/rest/api/3/issue", fixed(recorded("jira", fixture)))
    jira = tracker(url)
    try:
        with pytest.raises(Permanent) as raised:
            await jira.create(REQUEST)
    finally:
        await jira.close()
    assert words in str(raised.value)


async def test_a_refused_field_names_its_setting(recorder):
    server, url = recorder
    refused = {"errorMessages": [], "errors": {"project": "Specify a valid project ID or key"}}

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response(refused, status=400)

    server.on("POST", "/rest/api/3/issue", refuse)
    jira = tracker(url)
    try:
        with pytest.raises(Permanent, match=r"\(check GOLIVE_JIRA_PROJECT\)"):
            await jira.create(REQUEST)
    finally:
        await jira.close()


async def test_a_label_with_a_space_is_refused_before_anything_is_sent(recorder):
    server, url = recorder
    jira = tracker(url)
    try:
        with pytest.raises(Permanent, match="GOLIVE_FOLLOWUP_LABELS"):
            await jira.create(FollowUpRequest(MARKER, "t", "b", labels=("go live",)))
    finally:
        await jira.close()
    assert server.requests == []


async def test_a_rate_limit_is_transient_with_retry_after(recorder):
    server, url = recorder

    async def limited(request: web.Request) -> web.Response:
        return web.json_response(
            {"errorMessages": ["Rate limit exceeded."]}, status=429, headers={"Retry-After": "7"}
        )

    server.on("POST", "/rest/api/3/issue", limited)
    jira = tracker(url)
    try:
        with pytest.raises(Transient) as raised:
            await jira.create(REQUEST)
    finally:
        await jira.close()
    assert raised.value.retry_after == 7.0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    status=st.sampled_from([200, 201, 400, 401, 404, 429, 503]),
    body=st.one_of(
        _json,
        st.fixed_dictionaries({"key": _json}),
        st.fixed_dictionaries({"issues": st.lists(st.fixed_dictionaries({"key": _json, "fields": _json}))}),
    ),
)
async def test_any_answer_gives_a_follow_up_none_or_a_port_error(aiohttp_server, status, body):
    async def anything(request: web.Request) -> web.Response:
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    server = await aiohttp_server(app)
    jira = tracker(str(server.make_url("")).rstrip("/"))
    try:
        for call in (lambda: jira.find(MARKER), lambda: jira.create(REQUEST), lambda: jira.get("ED-1")):
            try:
                result = await call()
            except PortError:
                pass
            else:
                assert result is None or isinstance(result, FollowUp)
    finally:
        await jira.close()
