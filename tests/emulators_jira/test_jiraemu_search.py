"""The enhanced JQL search: finding an existing issue again by a marker, paging, JQL errors."""

from __future__ import annotations

from jiraemu_support import AUTH, adf, new_issue, recorded, shape_mismatches

MARKER = "golive-incident-INC0010001"


async def _search(client, jql, method="POST", **extra):
    if method == "POST":
        resp = await client.post("/rest/api/3/search/jql", json={"jql": jql, **extra}, headers=AUTH)
    else:
        resp = await client.get("/rest/api/3/search/jql", params={"jql": jql, **extra}, headers=AUTH)
    return resp, await resp.json()


async def test_summary_marker_finds_the_existing_issue_with_the_recorded_shape(jira):
    await new_issue(jira, summary="unrelated")
    created = await new_issue(jira, summary="INC0010001: kiosk down", labels=[MARKER])
    resp, body = await _search(
        jira, 'project = GOLIVE AND summary ~ "INC0010001"', fields=["summary", "labels"]
    )
    assert resp.status == 200
    assert [i["key"] for i in body["issues"]] == [created["key"]]
    assert body["isLast"] is True and "nextPageToken" not in body


async def test_a_page_that_is_not_the_last_has_the_recorded_shape(jira):
    await new_issue(jira, summary="INC0010001 first")
    await new_issue(jira, summary="INC0010001 second")
    jql = 'project = GOLIVE AND summary ~ "INC0010001"'
    _, first = await _search(jira, jql, fields=["summary", "labels"], maxResults=1)
    assert shape_mismatches(recorded("search_jql.json")["body"], first) == []
    assert first["isLast"] is False
    _, second = await _search(
        jira, jql, fields=["summary"], maxResults=1, nextPageToken=first["nextPageToken"]
    )
    assert second["isLast"] is True
    assert {first["issues"][0]["key"], second["issues"][0]["key"]} == {"GOLIVE-1", "GOLIVE-2"}


async def test_label_and_text_in_the_description_find_it_too(jira):
    created = await new_issue(jira, labels=[MARKER], description=adf(f"Thread link. Marker {MARKER}."))
    for jql in (
        f"project = GOLIVE AND labels = {MARKER}",
        f'project = GOLIVE AND labels in ("other", "{MARKER}")',
        f'project = "GOLIVE" AND text ~ "{MARKER}"',
        f'project = GOLIVE AND description ~ "\\"Marker {MARKER}\\""',
        f"key = {created['key']}",
    ):
        _, body = await _search(jira, jql, method="GET")
        assert [i["id"] for i in body["issues"]] == [created["id"]], jql


async def test_without_fields_only_ids_come_back(jira):
    created = await new_issue(jira, summary="kiosk")
    _, body = await _search(jira, "project = GOLIVE")
    assert body["issues"] == [{"id": created["id"]}]


async def test_next_page_tokens_walk_every_match_once(jira):
    keys = [(await new_issue(jira, summary=f"batch {i}"))["key"] for i in range(5)]
    seen, token, pages = [], None, 0
    while True:
        extra = {"maxResults": 2, "fields": ["summary"]}
        if token:
            extra["nextPageToken"] = token
        _, body = await _search(jira, "project = GOLIVE ORDER BY created ASC, key ASC", **extra)
        seen += [i["key"] for i in body["issues"]]
        pages += 1
        if body["isLast"]:
            assert "nextPageToken" not in body
            break
        token = body["nextPageToken"]
    assert seen == keys
    assert pages == 3


async def test_words_must_all_match_and_not_excludes(jira):
    await new_issue(jira, summary="scanner offline in pharmacy")
    await new_issue(jira, summary="scanner online")
    _, both = await _search(jira, 'project = GOLIVE AND summary ~ "scanner pharmacy"')
    _, prefix = await _search(jira, 'project = GOLIVE AND summary ~ "pharm*"')
    _, negated = await _search(jira, 'project = GOLIVE AND NOT summary ~ "pharmacy"')
    _, either = await _search(jira, 'project = GOLIVE AND (summary ~ "offline" OR summary ~ "online")')
    assert (len(both["issues"]), len(prefix["issues"]), len(negated["issues"]), len(either["issues"])) == (
        1,
        1,
        1,
        2,
    )


async def test_jql_jira_refuses_is_400_with_its_message(jira):
    cases = {
        "": "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        "ORDER BY created": "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        "summary = kiosk": "The operator '=' is not supported by the 'summary' field.",
        "projekt = GOLIVE": "Field 'projekt' does not exist or you do not have permission to view it.",
        "project = NOPE": "The value 'NOPE' does not exist for the field 'project'.",
        'project = "GOLIVE': "Error in the JQL Query: The quoted string '\"GOLIVE' has not been completed. (line 1, character 11)",
    }
    for jql, message in cases.items():
        resp, body = await _search(jira, jql)
        assert resp.status == 400, jql
        assert body == {"errorMessages": [message], "errors": {}}, jql


async def test_the_removed_search_endpoint_answers_410(jira):
    fixture = recorded("search_removed_410.json")
    for method in ("GET", "POST"):
        resp = await jira.request(
            method, "/rest/api/3/search", params={"jql": "project = GOLIVE"}, headers=AUTH
        )
        assert resp.status == fixture["status"]
        assert await resp.json() == fixture["body"]
