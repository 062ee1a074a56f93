"""GET /search/issues: finding an existing follow-up again by a marker, GitHub's result shape."""

from __future__ import annotations

from ghemu_support import AUTH, REPO, new_issue, recorded, shape_mismatches

MARKER = "golive-incident:INC0010001"


async def _search(client, q, **params):
    resp = await client.get("/search/issues", params={"q": q, **params}, headers=AUTH)
    return resp, await resp.json()


async def test_a_marker_in_the_body_finds_the_existing_issue(gh):
    await new_issue(gh, title="Other", body="unrelated")
    created = await new_issue(gh, title="INC0010001 kiosk down", body=f"Thread link\n<!-- {MARKER} -->")
    resp, body = await _search(gh, f'repo:{REPO} is:issue in:body "{MARKER}"')
    assert resp.status == 200
    assert shape_mismatches(recorded("search_issues.json")["body"], body) == []
    assert (body["total_count"], body["incomplete_results"]) == (1, False)
    assert body["items"][0]["number"] == created["number"]
    assert body["items"][0]["html_url"] == created["html_url"]
    assert resp.headers["x-ratelimit-resource"] == "search"
    assert resp.headers["x-ratelimit-limit"] == "30"


async def test_in_title_searches_only_titles(gh):
    await new_issue(gh, title="INC0010002 printer", body="nothing")
    await new_issue(gh, title="printer", body="INC0010002 is in the body")
    _, by_title = await _search(gh, f"repo:{REPO} INC0010002 in:title")
    _, anywhere = await _search(gh, f"repo:{REPO} INC0010002")
    assert [i["number"] for i in by_title["items"]] == [1]
    assert sorted(i["number"] for i in anywhere["items"]) == [1, 2]


async def test_words_must_all_match_and_phrases_must_match_whole(gh):
    await new_issue(gh, title="scanner offline in pharmacy")
    _, both = await _search(gh, f"repo:{REPO} scanner pharmacy")
    _, phrase_ok = await _search(gh, f'repo:{REPO} "scanner offline"')
    _, phrase_no = await _search(gh, f'repo:{REPO} "offline scanner"')
    _, missing = await _search(gh, f"repo:{REPO} scanner radiology")
    assert (
        both["total_count"],
        phrase_ok["total_count"],
        phrase_no["total_count"],
        missing["total_count"],
    ) == (1, 1, 0, 0)


async def test_label_state_and_repo_qualifiers_narrow_the_search(gh):
    await new_issue(gh, title="a", labels=["go-live", "INC0010003"])
    await new_issue(gh, title="b", labels=["go-live"])
    await gh.patch(f"/repos/{REPO}/issues/2", json={"state": "closed"}, headers=AUTH)
    _, by_label = await _search(gh, f"repo:{REPO} label:INC0010003")
    _, both_labels = await _search(gh, f'repo:{REPO} label:"go-live" label:inc0010003')
    _, closed = await _search(gh, f"repo:{REPO} is:closed")
    _, other_repo = await _search(gh, "repo:someone/else label:go-live")
    _, prs = await _search(gh, f"repo:{REPO} is:pr")
    assert [i["number"] for i in by_label["items"]] == [1]
    assert [i["number"] for i in both_labels["items"]] == [1]
    assert [i["number"] for i in closed["items"]] == [2]
    assert (other_repo["total_count"], prs["total_count"]) == (0, 0)


async def test_comments_are_searched_unless_in_says_otherwise(gh):
    await new_issue(gh)
    await gh.post(f"/repos/{REPO}/issues/1/comments", json={"body": "see INC0010004"}, headers=AUTH)
    _, found = await _search(gh, f"repo:{REPO} INC0010004")
    _, not_in_body = await _search(gh, f"repo:{REPO} INC0010004 in:body")
    assert (found["total_count"], not_in_body["total_count"]) == (1, 0)


async def test_search_pages_and_refuses_beyond_the_first_thousand(gh):
    for i in range(5):
        await new_issue(gh, title=f"batch {i}")
    resp, page = await _search(gh, f"repo:{REPO} batch", per_page="2", page="2")
    assert [i["title"] for i in page["items"]] == ["batch 2", "batch 1"]
    assert page["total_count"] == 5
    assert 'rel="next"' in resp.headers["Link"] and 'rel="prev"' in resp.headers["Link"]
    resp, body = await _search(gh, "batch", per_page="100", page="11")
    assert (resp.status, body["message"]) == (422, "Only the first 1000 search results are available")


async def test_a_missing_query_is_422(gh):
    resp, body = await _search(gh, "")
    assert resp.status == 422
    assert body["errors"] == [{"resource": "Search", "field": "q", "code": "missing"}]
