"""The plan API: bearer tokens named in the audit, the CLI's import rules and line errors as JSON,
dry runs, previews, the audit trail and a valid OpenAPI 3 description."""

from __future__ import annotations

import csv
import io

from openapi_spec_validator import validate
from planapi_support import CI_TOKEN, FLOW_TOKEN

NEW_WEEK = (
    "week_start,station,name,time_zone\n"
    "2022-06-06,998,Chicago Lakeside,America/Chicago\n"
    "2022-06-06,997,Denver Federal Center,America/Denver\n"
)


async def test_a_good_token_reads_the_plan_and_a_bad_or_missing_one_gets_401(api):
    response = await api.get("/api/plan")
    assert response.status == 200 and response.content_type == "application/json"
    rows = await response.json()
    atlanta = next(row for row in rows if row["station"] == "508")
    assert atlanta["status"] == "open" and atlanta["week_start"] == "2022-05-02"
    assert {row["status"] for row in rows} == {"open", "planned"}

    for headers in (
        {"Authorization": "Bearer not-a-token-at-all-xyz"},
        {"Authorization": f"Basic {FLOW_TOKEN}"},
    ):
        refused = await api.client.get("/api/plan", headers=headers)
        assert refused.status == 401 and "bearer token" in (await refused.json())["error"]
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await api.client.get("/api/audit")).status == 401
    assert (await api.client.post("/api/plan/import", data=NEW_WEEK)).status == 401
    assert (await api.client.get("/api/openapi.json")).status == 200  # the description is public


async def test_the_plan_as_csv_round_trips_through_a_dry_run_import(api):
    response = await api.get("/api/plan", headers={"Accept": "text/csv"})
    assert response.status == 200 and response.content_type == "text/csv"
    text = await response.text()
    assert len(list(csv.reader(io.StringIO(text)))) == 1 + 122
    again = await api.upload(text, dry_run="true")
    assert again.status == 200 and (await again.json())["changes"] == []
    assert (await api.get("/api/plan", headers={"Accept": "image/png"})).status == 406
    assert (
        await api.get("/api/plan", headers={"Accept": "text/csv;q=0.5, application/json"})
    ).content_type == ("application/json")


async def test_a_bad_csv_answers_422_with_every_bad_line_and_changes_nothing(api):
    bad = (
        "week_start,station,name,time_zone,go_live_date\n"
        "2022-06-06,998,Good,America/Chicago,\n"
        "5/9/2022,997,US date,America/Chicago,\n"  # line 3
        "2022-06-07,996,Tuesday,America/Chicago,\n"  # line 4
        "2022-06-06,995,Mars,Mars/Base,\n"  # line 5
        "2022-06-06,998,Again,America/Chicago,\n"  # line 6
    )
    response = await api.upload(bad)
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert {error["line"] for error in errors} == {3, 4, 5, 6}
    us = next(error["reason"] for error in errors if error["line"] == 3)
    assert "YYYY-MM-DD" in us and "2022-05-09" in us
    assert (await api.upload(b"\xff\xfe not utf-8")).status == 422
    assert (await api.upload(b"")).status == 422
    plan = await (await api.get("/api/plan")).json()
    assert "998" not in {row["station"] for row in plan}


async def test_a_dry_run_says_what_would_change_and_changes_nothing(api):
    saved = ("\ufeff" + NEW_WEEK + ",,,\n\n").replace("\n", "\r\n")  # as a spreadsheet saves it
    response = await api.upload(saved.encode(), dry_run="true")
    assert response.status == 200
    body = await response.json()
    assert body["dry_run"] is True and body["applied"] is False and body["mode"] == "merge"
    assert [change["text"] for change in body["changes"]] == [
        "add 997 Denver Federal Center (week 2022-06-06, go-live 2022-06-06)",
        "add 998 Chicago Lakeside (week 2022-06-06, go-live 2022-06-06)",
    ]
    assert (await api.get("/api/audit")).status == 200
    assert await (await api.get("/api/audit")).json() == []
    assert "998" not in {row["station"] for row in await (await api.get("/api/plan")).json()}


async def test_a_merge_import_keeps_open_channels_and_is_audited_under_the_token_name(api):
    live = await api.open_stations()
    response = await api.upload(NEW_WEEK)
    assert response.status == 200 and (await response.json())["applied"] is True
    await api.runtime.lifecycle.tick()
    assert await api.open_stations() == live
    [entry] = await (await api.get("/api/audit")).json()
    assert entry["actor"] == "api:flow" and entry["action"] == "plan.import"
    assert "add 998 Chicago Lakeside" in entry["detail"]
    ci = await api.client.get(
        "/api/audit", headers={"Authorization": f"Bearer {CI_TOKEN}"}, params={"site": "997"}
    )
    assert [e["actor"] for e in await ci.json()] == ["api:flow"]


async def test_replace_refuses_with_409_naming_the_open_sites_unless_forced(api):
    refused = await api.upload(NEW_WEEK, mode="replace")
    assert refused.status == 409
    body = await refused.json()
    assert {site["station"] for site in body["open_sites"]} == {"508", "528A7", "459", "463", "644", "672"}
    assert "force=true" in body["error"] and body["applied"] is False
    assert (await api.upload(NEW_WEEK, mode="replace", dry_run="true")).status == 409
    assert len(await api.open_stations()) == 6
    forced = await api.upload(NEW_WEEK, mode="replace", force="true")
    assert forced.status == 200
    await api.runtime.lifecycle.tick()
    assert await api.open_stations() == set()


async def test_bad_query_parameters_get_400_with_a_reason(api):
    for params in ({"mode": "overwrite"}, {"dry_run": "maybe"}, {"force": "2"}):
        response = await api.upload(NEW_WEEK, **params)
        assert response.status == 400 and (await response.json())["error"]
    assert (await api.get("/api/plan/preview", to="2022-05-09T00:00:00Z")).status == 400
    assert (await api.get("/api/plan/preview", **{"from": "yesterday", "to": "2022-05-09"})).status == 400
    assert (await api.get("/api/audit", limit="0")).status == 400
    assert (await api.get("/api/audit", action="; drop table")).status == 400
    assert (await api.get("/api/audit", since="0001-01-01T00:00:00+14:00")).status == 400


async def test_preview_lists_the_channel_actions_in_the_range(api):
    response = await api.get(
        "/api/plan/preview", **{"from": "2022-05-02T11:00:00Z", "to": "2022-05-02T12:00:00Z"}
    )
    assert response.status == 200
    assert await response.json() == [
        {"at": "2022-05-02T11:00:00+00:00", "action": "open", "station": "508", "name": "Atlanta"},
        {"at": "2022-05-02T11:00:00+00:00", "action": "open", "station": "528A7", "name": "Syracuse"},
        {"at": "2022-05-02T11:00:00+00:00", "action": "open", "station": "672", "name": "San Juan"},
    ]


async def test_without_configured_tokens_every_call_is_refused(make_api):
    api = await make_api(api_tokens="")
    assert (await api.get("/api/plan")).status == 401
    assert (await api.upload(NEW_WEEK)).status == 401


async def test_the_openapi_description_is_valid_openapi_3_and_lists_every_route(api):
    response = await api.client.get("/api/openapi.json")
    description = await response.json()
    validate(description)
    assert description["openapi"].startswith("3.")
    assert set(description["paths"]) == {
        "/api/plan",
        "/api/plan/import",
        "/api/plan/preview",
        "/api/audit",
        "/api/openapi.json",
    }
    assert description["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
