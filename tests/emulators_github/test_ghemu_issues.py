"""Issues: create (201 or 422 as GitHub answers), get, update, list with Link paging, comments."""

from __future__ import annotations

import re

from ghemu_support import AUTH, OUTSIDER_AUTH, REPO, new_issue, recorded, shape_mismatches


async def test_create_answers_201_with_the_recorded_shape_and_a_location(gh):
    resp = await gh.post(
        f"/repos/{REPO}/issues",
        json={
            "title": "INC0010001: kiosk down",
            "body": "Thread link",
            "labels": ["go-live"],
            "assignees": ["jane-doe"],
        },
        headers=AUTH,
    )
    body = await resp.json()
    fixture = recorded("create_issue_201.json")
    assert resp.status == fixture["status"]
    assert shape_mismatches(fixture["body"], body) == []
    assert resp.headers["Location"] == body["url"]
    assert body["url"].endswith(f"/repos/{REPO}/issues/1")
    assert body["html_url"].endswith(f"/{REPO}/issues/1")
    assert (body["number"], body["state"], body["title"]) == (1, "open", "INC0010001: kiosk down")
    assert [label["name"] for label in body["labels"]] == ["go-live"]
    assert [a["login"] for a in body["assignees"]] == ["jane-doe"]
    assert body["user"]["login"] == "golive-bot"
    assert body["created_at"] == "2022-05-03T15:00:00Z"


async def test_numbers_count_up_per_repository(gh):
    numbers = [(await new_issue(gh, title=f"t{i}"))["number"] for i in range(3)]
    assert numbers == [1, 2, 3]


async def test_an_assignee_who_is_not_a_collaborator_is_422_validation_failed(gh):
    resp = await gh.post(f"/repos/{REPO}/issues", json={"title": "x", "assignees": ["nobody"]}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 422
    assert shape_mismatches(recorded("validation_failed_422.json")["body"], body) == []
    assert body == {
        "message": "Validation Failed",
        "errors": [{"value": "nobody", "resource": "Issue", "field": "assignees", "code": "invalid"}],
        "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
        "status": "422",
    }
    assert await (await gh.get("/_emulator/issues")).json() == []


async def test_bad_bodies_get_githubs_400_and_422_answers(gh):
    cases = [
        (b"{not json", 400, "Problems parsing JSON"),
        (b"[1, 2]", 400, "Problems parsing JSON"),
        (b"{}", 422, 'Invalid request.\n\n"title" wasn\'t supplied.'),
        (b'{"title": ""}', 422, "Validation Failed"),
        (
            b'{"title": ["x"]}',
            422,
            "Invalid request.\n\nFor 'properties/title', [\"x\"] is not a string or integer.",
        ),
        (
            b'{"title": "x", "labels": "bug"}',
            422,
            "Invalid request.\n\nFor 'properties/labels', \"bug\" is not an array.",
        ),
        (
            b'{"title": "x", "body": 5}',
            422,
            "Invalid request.\n\nFor 'properties/body', 5 is not a string or null.",
        ),
        (b'{"title": "' + b"x" * 300 + b'"}', 422, "Validation Failed"),
    ]
    for raw, status, message in cases:
        resp = await gh.post(
            f"/repos/{REPO}/issues", data=raw, headers={**AUTH, "Content-Type": "application/json"}
        )
        body = await resp.json()
        assert (resp.status, body["message"]) == (status, message), raw
        assert body["status"] == str(status)


async def test_an_unknown_repository_or_issue_is_404(gh):
    for method, path in (
        ("GET", "/repos/golive-bridge/nope"),
        ("POST", "/repos/golive-bridge/nope/issues"),
        ("GET", f"/repos/{REPO}/issues/99"),
        ("GET", f"/repos/{REPO}/issues/abc"),
        ("GET", "/nothing/here"),
    ):
        resp = await gh.request(method, path, json={"title": "x"}, headers=AUTH)
        body = await resp.json()
        assert (resp.status, body["message"]) == (404, "Not Found"), path
        assert "documentation_url" in body


async def test_a_private_repository_is_invisible_to_a_non_collaborator(gh):
    await new_issue(gh)
    assert (await gh.get(f"/repos/{REPO}", headers=OUTSIDER_AUTH)).status == 404
    assert (await gh.get(f"/repos/{REPO}/issues/1", headers=OUTSIDER_AUTH)).status == 404
    assert (await gh.get(f"/repos/{REPO}/issues/1")).status == 404  # anonymous
    found = await (await gh.get("/search/issues", params={"q": "Follow-up"}, headers=OUTSIDER_AUTH)).json()
    assert found["total_count"] == 0


async def test_on_a_public_repository_an_outsiders_labels_and_assignees_are_dropped(make_client):
    from emulators.github import GitHubRepo

    client = await make_client(repos=(GitHubRepo("golive-bridge", "public", ("golive-bot",), private=False),))
    resp = await client.post(
        "/repos/golive-bridge/public/issues",
        json={"title": "x", "labels": ["bug"], "assignees": ["golive-bot"]},
        headers=OUTSIDER_AUTH,
    )
    body = await resp.json()
    assert resp.status == 201
    assert (body["labels"], body["assignees"], body["author_association"]) == ([], [], "NONE")
    assert (await client.post("/repos/golive-bridge/public/issues", json={"title": "x"})).status == 401


async def test_get_and_patch_an_issue(gh):
    created = await new_issue(gh, body="first")
    resp = await gh.get(f"/repos/{REPO}/issues/{created['number']}", headers=AUTH)
    assert shape_mismatches(recorded("issue.json")["body"], await resp.json()) == []
    resp = await gh.patch(
        f"/repos/{REPO}/issues/1",
        json={"state": "closed", "body": "second", "labels": ["done"]},
        headers=AUTH,
    )
    body = await resp.json()
    assert resp.status == 200
    assert (body["state"], body["state_reason"], body["body"]) == ("closed", "completed", "second")
    assert body["closed_at"] == "2022-05-03T15:00:00Z" and body["closed_by"]["login"] == "golive-bot"
    assert [label["name"] for label in body["labels"]] == ["done"]
    reopened = await (await gh.patch(f"/repos/{REPO}/issues/1", json={"state": "open"}, headers=AUTH)).json()
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == ("open", "reopened", None)
    bad = await gh.patch(f"/repos/{REPO}/issues/1", json={"state": "done"}, headers=AUTH)
    assert bad.status == 422


async def test_comments_are_created_and_counted(gh):
    await new_issue(gh)
    resp = await gh.post(f"/repos/{REPO}/issues/1/comments", json={"body": "Work note added"}, headers=AUTH)
    body = await resp.json()
    assert resp.status == 201
    assert resp.headers["Location"] == body["url"]
    assert set(body) >= {"id", "node_id", "html_url", "body", "user", "created_at"}
    assert body["html_url"].endswith(f"/issues/1#issuecomment-{body['id']}")
    issue = await (await gh.get(f"/repos/{REPO}/issues/1", headers=AUTH)).json()
    assert issue["comments"] == 1
    missing = await gh.post(f"/repos/{REPO}/issues/1/comments", json={}, headers=AUTH)
    assert missing.status == 422


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


async def test_listing_pages_with_link_headers_like_github(gh):
    for i in range(7):
        await new_issue(gh, title=f"issue {i}", labels=["follow-up"] if i % 2 == 0 else [])
    fixture = recorded("list_issues_page1.json")
    resp = await gh.get(f"/repos/{REPO}/issues", params={"per_page": "3"}, headers=AUTH)
    assert shape_mismatches(fixture["body"], await resp.json()) == []
    assert set(_links(resp.headers["Link"])) == set(_links(fixture["headers"]["link"])) == {"next", "last"}
    assert re.fullmatch(r'<[^>]+>; rel="next", <[^>]+>; rel="last"', resp.headers["Link"])
    numbers, url, pages = [], f"/repos/{REPO}/issues?per_page=3", 0
    while url:
        resp = await gh.get(url, headers=AUTH)
        numbers += [i["number"] for i in await resp.json()]
        pages += 1
        url = _links(resp.headers.get("Link", "")).get("next", "")
        url = url[url.index("/repos/") :] if url else ""
    assert numbers == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3
    labelled = await (
        await gh.get(f"/repos/{REPO}/issues", params={"labels": "Follow-Up"}, headers=AUTH)
    ).json()
    assert [i["number"] for i in labelled] == [7, 5, 3, 1]
    assert "Link" not in (await gh.get(f"/repos/{REPO}/issues", headers=AUTH)).headers


async def test_listing_by_state(gh):
    await new_issue(gh)
    await new_issue(gh)
    await gh.patch(f"/repos/{REPO}/issues/1", json={"state": "closed"}, headers=AUTH)
    for state, expected in (("open", [2]), ("closed", [1]), ("all", [2, 1])):
        body = await (await gh.get(f"/repos/{REPO}/issues", params={"state": state}, headers=AUTH)).json()
        assert [i["number"] for i in body] == expected
    assert (await gh.get(f"/repos/{REPO}/issues", params={"state": "bogus"}, headers=AUTH)).status == 422
