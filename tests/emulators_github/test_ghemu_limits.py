"""Credentials, rate-limit headers, GitHub's primary and secondary refusals, dropped replies."""

from __future__ import annotations

import re
import time

import aiohttp
import pytest
from ghemu_support import AUTH, REPO, TOKEN, new_issue, recorded, shape_mismatches

RATE_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-used",
    "x-ratelimit-resource",
)


async def test_bearer_and_token_schemes_both_authenticate(gh):
    for header in (f"Bearer {TOKEN}", f"token {TOKEN}"):
        resp = await gh.get("/user", headers={"Authorization": header})
        body = await resp.json()
        assert resp.status == 200, header
        assert (body["login"], body["type"]) == ("golive-bot", "User")


async def test_a_bad_token_is_the_recorded_401_bad_credentials(gh):
    fixture = recorded("bad_credentials_401.json")
    for path in ("/user", f"/repos/{REPO}", "/search/issues?q=x"):
        resp = await gh.get(path, headers={"Authorization": "Bearer ghp_wrong"})
        assert resp.status == fixture["status"], path
        assert await resp.json() == fixture["body"]
        assert all(h in resp.headers for h in RATE_HEADERS)


async def test_without_credentials_user_and_writes_require_authentication(gh):
    resp = await gh.get("/user")
    assert (resp.status, (await resp.json())["message"]) == (401, "Requires authentication")


async def test_a_revoked_or_expired_token_is_bad_credentials(gh):
    await gh.post("/_emulator/faults", json={"revoked_tokens": [TOKEN]})
    assert (await gh.get("/user", headers=AUTH)).status == 401
    await gh.post("/_emulator/faults", json={"revoked_tokens": None, "reject_auth": True})
    assert (await gh.get("/user", headers=AUTH)).status == 401
    await gh.delete("/_emulator/faults")
    assert (await gh.get("/user", headers=AUTH)).status == 200


async def test_every_answer_carries_the_rate_limit_headers(gh):
    first = await gh.get(f"/repos/{REPO}", headers=AUTH)
    assert {
        h: first.headers[h] for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used")
    } == {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-used": "1",
    }
    assert first.headers["x-ratelimit-resource"] == "core"
    assert 0 < int(first.headers["x-ratelimit-reset"]) - time.time() <= 3601  # epoch seconds, not ms
    for resp in (
        await gh.get(f"/repos/{REPO}/issues/9", headers=AUTH),
        await gh.post(f"/repos/{REPO}/issues", json={}, headers=AUTH),
    ):
        assert all(h in resp.headers for h in RATE_HEADERS), resp.status
    assert (await gh.get("/user", headers=AUTH)).headers["x-ratelimit-used"] == "4"


@pytest.mark.parametrize("status", [403, 429])
async def test_primary_rate_limit_fault_answers_like_github(gh, status):
    await gh.post(
        "/_emulator/faults", json={"rate_limit": {"kind": "primary", "status": status, "retry_after": 120}}
    )
    fixture = recorded("primary_rate_limit_403.json")
    resp = await gh.post(f"/repos/{REPO}/issues", json={"title": "x"}, headers=AUTH)
    body = await resp.json()
    assert resp.status == status
    assert shape_mismatches(fixture["body"], body) == []
    assert re.match(r"API rate limit exceeded for user ID \d+\.", body["message"])
    assert all(name in resp.headers for name in fixture["headers"])
    assert (resp.headers["x-ratelimit-remaining"], resp.headers["x-ratelimit-used"]) == ("0", "5000")
    assert 100 <= int(resp.headers["x-ratelimit-reset"]) - time.time() <= 121
    assert "retry-after" not in resp.headers
    assert await (await gh.get("/_emulator/issues")).json() == []
    assert (await gh.post(f"/repos/{REPO}/issues", json={"title": "x"}, headers=AUTH)).status == 201


async def test_secondary_rate_limit_fault_sends_retry_after_and_says_secondary(gh):
    await gh.post(
        "/_emulator/faults", json={"rate_limit": {"kind": "secondary", "count": 2, "retry_after": 30}}
    )
    fixture = recorded("secondary_rate_limit_403.json")
    for _ in range(2):
        resp = await gh.post(f"/repos/{REPO}/issues", json={"title": "x"}, headers=AUTH)
        body = await resp.json()
        assert resp.status == fixture["status"]
        assert shape_mismatches(fixture["body"], body) == []
        assert "secondary rate limit" in body["message"]
        assert resp.headers["retry-after"] == "30"
        assert resp.headers["x-ratelimit-remaining"] != "0"
    assert (await gh.post(f"/repos/{REPO}/issues", json={"title": "x"}, headers=AUTH)).status == 201


async def test_exhausting_the_hourly_limit_answers_403_with_nothing_remaining(make_client):
    client = await make_client(core_limit=2)
    statuses = [(await client.get("/user", headers=AUTH)).status for _ in range(3)]
    last = await client.get("/user", headers=AUTH)
    assert statuses == [200, 200, 403]
    assert (last.status, last.headers["x-ratelimit-remaining"]) == (403, "0")
    assert (await last.json())["message"].startswith("API rate limit exceeded")


async def test_an_unknown_api_version_is_refused(gh):
    resp = await gh.get("/user", headers={**AUTH, "X-GitHub-Api-Version": "1999-01-01"})
    assert resp.status == 400
    ok = await gh.get("/user", headers={**AUTH, "X-GitHub-Api-Version": "2026-03-10"})
    assert ok.status == 200


async def test_a_dropped_reply_still_creates_the_issue_and_search_finds_it_again(gh):
    await gh.post("/_emulator/faults", json={"drop_reply": {"count": 1, "methods": ["POST"]}})
    with pytest.raises(aiohttp.ClientError):
        await gh.post(f"/repos/{REPO}/issues", json={"title": "x", "body": "marker-7f3a"}, headers=AUTH)
    issues = await (await gh.get("/_emulator/issues")).json()
    assert [i["body"] for i in issues] == ["marker-7f3a"]
    found = await (
        await gh.get("/search/issues", params={"q": f"repo:{REPO} marker-7f3a"}, headers=AUTH)
    ).json()
    assert found["total_count"] == 1
    assert (await gh.post(f"/repos/{REPO}/issues", json={"title": "y"}, headers=AUTH)).status == 201


async def test_status_fault_answers_githubs_error_body(gh):
    await gh.post("/_emulator/faults", json={"status": 502, "count": 1})
    resp = await gh.get("/user", headers=AUTH)
    assert resp.status == 502
    assert set(await resp.json()) == {"message", "documentation_url", "status"}
    assert (await gh.get("/user", headers=AUTH)).status == 200
    await new_issue(gh)
