"""Create and get issues: Jira's 201, its field-by-field 400s, the plain-text 401."""

from __future__ import annotations

from jiraemu_support import AUTH, EMAIL, adf, new_issue, recorded, shape_mismatches


async def test_create_answers_201_with_id_key_and_self(jira):
    resp = await jira.post(
        "/rest/api/3/issue",
        json={
            "fields": {
                "project": {"key": "GOLIVE"},
                "issuetype": {"name": "Task"},
                "summary": "INC0010001: kiosk down",
                "description": adf("Thread: https://teams.example/thread/1"),
                "labels": ["go-live", "INC0010001"],
            }
        },
        headers=AUTH,
    )
    body = await resp.json()
    fixture = recorded("create_issue_201.json")
    assert resp.status == fixture["status"]
    assert shape_mismatches(fixture["body"], body) == []
    assert body["key"] == "GOLIVE-1"
    assert body["self"].endswith(f"/rest/api/3/issue/{body['id']}")


async def test_get_by_key_or_id_has_the_recorded_shape(jira):
    created = await new_issue(jira, summary="kiosk down", labels=["go-live"], description=adf("details"))
    fixture = recorded("issue.json")
    for ref in (created["key"], created["id"], created["key"].lower()):
        resp = await jira.get(f"/rest/api/3/issue/{ref}", headers=AUTH)
        body = await resp.json()
        assert resp.status == 200, ref
        assert shape_mismatches(fixture["body"], body) == [], ref
    fields = body["fields"]
    assert (fields["summary"], fields["labels"], fields["description"]) == (
        "kiosk down",
        ["go-live"],
        adf("details"),
    )
    assert fields["reporter"]["emailAddress"] == EMAIL
    assert (fields["status"]["name"], fields["issuetype"]["name"], fields["project"]["key"]) == (
        "To Do",
        "Task",
        "GOLIVE",
    )
    assert fields["created"] == "2022-05-03T15:00:00.000+0000"


async def test_get_can_narrow_the_fields(jira):
    created = await new_issue(jira)
    body = await (
        await jira.get(
            f"/rest/api/3/issue/{created['key']}", params={"fields": "summary,labels"}, headers=AUTH
        )
    ).json()
    assert set(body["fields"]) == {"summary", "labels"}


async def test_an_unknown_issue_is_404_with_jiras_message(jira):
    resp = await jira.get("/rest/api/3/issue/GOLIVE-99", headers=AUTH)
    assert resp.status == 404
    assert await resp.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }


async def test_bad_fields_get_the_recorded_400_naming_each_field(jira):
    fixture = recorded("error_400.json")
    resp = await jira.post(
        "/rest/api/3/issue",
        json={
            "fields": {
                "project": {"key": "GOLIVE"},
                "issuetype": {"name": "Task"},
                "description": "plain text",
            }
        },
        headers=AUTH,
    )
    body = await resp.json()
    assert resp.status == fixture["status"]
    assert body == fixture["body"]
    assert await (await jira.get("/_emulator/issues")).json() == []


async def test_every_bad_field_is_reported_at_once(jira):
    resp = await jira.post(
        "/rest/api/3/issue",
        json={
            "fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"name": "Epic"},
                "summary": "x" * 300,
                "labels": ["has space"],
                "assignee": {"accountId": "nobody"},
                "priority": {"name": "Urgent"},
                "customfield_10001": 1,
            }
        },
        headers=AUTH,
    )
    body = await resp.json()
    assert resp.status == 400
    assert body["errorMessages"] == []
    assert set(body["errors"]) == {
        "project",
        "issuetype",
        "summary",
        "labels",
        "assignee",
        "priority",
        "customfield_10001",
    }
    assert body["errors"]["customfield_10001"].startswith("Field 'customfield_10001' cannot be set.")


async def test_a_body_that_is_not_a_json_object_is_400(jira):
    for raw in (b"{oops", b"[]", b'"x"'):
        resp = await jira.post(
            "/rest/api/3/issue", data=raw, headers={**AUTH, "Content-Type": "application/json"}
        )
        body = await resp.json()
        assert resp.status == 400, raw
        assert body["errorMessages"] and body["errors"] == {}


async def test_wrong_or_missing_credentials_get_the_recorded_plain_text_401(jira):
    fixture = recorded("unauthorized_401.json")
    wrong = {"Authorization": "Basic Ym90QGV4YW1wbGUudmEuZ292Ondyb25n"}  # bot@example.va.gov:wrong
    for headers in (wrong, {}, {"Authorization": "Bearer x"}, {"Authorization": "Basic !!!"}):
        resp = await jira.get("/rest/api/3/myself", headers=headers)
        assert resp.status == fixture["status"], headers
        assert resp.content_type == "text/plain"
        assert await resp.text() == fixture["body_text"]
        assert "x-seraph-loginreason" in resp.headers and "www-authenticate" in resp.headers


async def test_myself_names_the_account(jira):
    body = await (await jira.get("/rest/api/3/myself", headers=AUTH)).json()
    assert (body["emailAddress"], body["accountType"]) == (EMAIL, "atlassian")
