"""Table API details of the emulator: operators, paging, display modes, envelopes, pysnow quirks."""

from __future__ import annotations

import aiohttp
import pytest
from testkit.servicenow import ADMIN_AUTH, JSON, Emulator

from emulators.servicenow.config import INTEGRATION_USER

INCIDENTS = "/api/now/table/incident"


async def _create(http: aiohttp.ClientSession, **fields: str) -> dict:
    async with http.post(INCIDENTS, json=fields) as response:
        assert response.status == 201
        return (await response.json())["result"]


async def _numbers(http: aiohttp.ClientSession, query: str) -> list[str]:
    params = {"sysparm_query": query, "sysparm_fields": "number"}
    async with http.get(INCIDENTS, params=params) as response:
        assert response.status == 200
        return [row["number"] for row in (await response.json())["result"]]


@pytest.fixture
async def three(http: aiohttp.ClientSession) -> None:
    await _create(
        http, short_description="printer jam", category="hardware", impact="1", correlation_id="a-1"
    )
    await _create(http, short_description="VPN down", category="network", impact="2", correlation_id="")
    await _create(
        http, short_description="pre-check-in link", category="inquiry", impact="3", correlation_id="c-3"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=network", ["INC0010002"]),
        ("category!=network", ["INC0010001", "INC0010003"]),
        ("short_descriptionLIKEjam", ["INC0010001"]),
        ("short_descriptionNOT LIKEjam", ["INC0010002", "INC0010003"]),
        ("short_descriptionSTARTSWITHVPN", ["INC0010002"]),
        ("short_descriptionENDSWITHlink", ["INC0010003"]),
        ("categoryINnetwork,inquiry", ["INC0010002", "INC0010003"]),
        ("categoryNOT INnetwork,inquiry", ["INC0010001"]),
        ("correlation_idISEMPTY", ["INC0010002"]),
        ("correlation_idISNOTEMPTY", ["INC0010001", "INC0010003"]),
        ("impact<2", ["INC0010001"]),
        ("impact<=2", ["INC0010001", "INC0010002"]),
        ("impact>2", ["INC0010003"]),
        ("impact>=2", ["INC0010002", "INC0010003"]),
        ("category=network^impact=1", []),
        ("category=network^ORimpact=1", ["INC0010001", "INC0010002"]),
        ("category=hardware^NQcategory=inquiry", ["INC0010001", "INC0010003"]),
        ("impact>=1^ORDERBYDESCimpact", ["INC0010003", "INC0010002", "INC0010001"]),
        ("ORDERBYcategory", ["INC0010001", "INC0010003", "INC0010002"]),
        ("assignment_group.name=Scheduling Support", []),
        ("no_such_field=1", ["INC0010001", "INC0010002", "INC0010003"]),  # ignored, like ServiceNow
    ],
)
async def test_encoded_query_operators(
    http: aiohttp.ClientSession, three: None, query: str, expected: list
) -> None:
    assert await _numbers(http, query) == expected


async def test_name_value_filter_narrows_like_a_condition(http: aiohttp.ClientSession, three: None) -> None:
    async with http.get(INCIDENTS, params={"category": "network", "sysparm_fields": "number"}) as response:
        assert [r["number"] for r in (await response.json())["result"]] == ["INC0010002"]


async def test_pagination_headers_give_total_and_links(http: aiohttp.ClientSession, three: None) -> None:
    params = {"sysparm_limit": "1", "sysparm_offset": "1", "sysparm_fields": "number"}
    async with http.get(INCIDENTS, params=params) as response:
        body = await response.json()
        link = response.headers["Link"]
        assert response.headers["X-Total-Count"] == "3"
    assert [r["number"] for r in body["result"]] == ["INC0010002"]
    by_rel = {rel.strip('"'): url for url, rel in (part.split(";rel=") for part in link.split(","))}
    assert set(by_rel) == {"first", "prev", "next", "last"}
    assert "sysparm_offset=2" in by_rel["next"] and "sysparm_offset=0" in by_rel["prev"]
    assert "sysparm_offset=2" in by_rel["last"] and "sysparm_fields=number" in by_rel["next"]


async def test_suppress_pagination_header_and_no_count(http: aiohttp.ClientSession, three: None) -> None:
    params = {"sysparm_suppress_pagination_header": "true", "sysparm_no_count": "true"}
    async with http.get(INCIDENTS, params=params) as response:
        assert "Link" not in response.headers and "X-Total-Count" not in response.headers


async def test_empty_result_is_an_empty_list_not_404(http: aiohttp.ClientSession) -> None:
    async with http.get(INCIDENTS, params={"sysparm_query": "number=INC9999999"}) as response:
        assert response.status == 200
        assert await response.json() == {"result": []}


async def test_display_value_modes_and_reference_links(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    group = emulator.store.find("sys_user_group", name="Scheduling Support")["sys_id"]
    created = await _create(http, short_description="x", assignment_group=group)
    url = f"{INCIDENTS}/{created['sys_id']}"
    fields = {"sysparm_fields": "state,assignment_group,assigned_to"}
    async with http.get(url, params={**fields, "sysparm_display_value": "True"}) as response:
        shown = (await response.json())["result"]
    assert shown["state"] == "New" and shown["assigned_to"] == ""
    assert (
        shown["assignment_group"]["display_value"] == "Scheduling Support"
        and "link" in shown["assignment_group"]
    )
    params = {**fields, "sysparm_display_value": "False", "sysparm_exclude_reference_link": "True"}
    async with http.get(url, params=params) as response:
        plain = (await response.json())["result"]
    assert plain == {"state": "1", "assignment_group": group, "assigned_to": ""}
    params = {**fields, "sysparm_display_value": "all", "sysparm_exclude_reference_link": "true"}
    async with http.get(url, params=params) as response:
        both = (await response.json())["result"]
    assert both["assignment_group"] == {"display_value": "Scheduling Support", "value": group}


async def test_pysnow_literal_params_are_read_case_insensitively(
    http: aiohttp.ClientSession, three: None
) -> None:
    params = {
        "sysparm_query": "category=network",
        "sysparm_limit": "10000",
        "sysparm_offset": "0",
        "sysparm_display_value": "False",
        "sysparm_suppress_pagination_header": "False",
        "sysparm_exclude_reference_link": "False",
        "sysparm_view": "",
        "sysparm_fields": "",
    }
    async with http.get(INCIDENTS, params=params) as response:
        rows = (await response.json())["result"]
        assert "Link" in response.headers
    assert [r["number"] for r in rows] == ["INC0010002"]
    assert rows[0]["opened_by"]["link"]  # full record, links kept


async def test_post_and_put_ignore_stale_query_params(http: aiohttp.ClientSession, three: None) -> None:
    stale = {"sysparm_query": "category=network", "sysparm_limit": "1", "sysparm_offset": "2"}
    async with http.post(INCIDENTS, params=stale, json={"short_description": "new"}) as response:
        assert response.status == 201
        created = (await response.json())["result"]
    assert created["number"] == "INC0010004"
    target = await _create(http, short_description="t")
    async with http.put(f"{INCIDENTS}/{target['sys_id']}", params=stale, json={"state": "2"}) as response:
        assert (await response.json())["result"]["number"] == target["number"]
    assert await _numbers(http, "state=2") == [target["number"]]


async def test_input_display_value_stores_group_and_user_by_name(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    params = {"sysparm_input_display_value": "true"}
    body = {
        "short_description": "x",
        "assignment_group": "eCheck-in Vet Facing Apps",
        "assigned_to": "Jane Doe",
    }
    async with http.post(INCIDENTS, params=params, json=body) as response:
        created = (await response.json())["result"]
    assert (
        created["assignment_group"]["value"]
        == emulator.store.find("sys_user_group", name=body["assignment_group"])["sys_id"]
    )
    assert created["assigned_to"]["value"] == emulator.store.find("sys_user", user_name="jdoe")["sys_id"]


async def test_writes_are_stamped_with_the_authenticated_login(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    created = await _create(http, short_description="x")
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers={**ADMIN_AUTH, **JSON}) as admin:
        async with admin.patch(
            f"{INCIDENTS}/{created['sys_id']}", json={"comments": "from a person"}
        ) as response:
            updated = (await response.json())["result"]
    assert created["sys_created_by"] == INTEGRATION_USER
    assert updated["sys_updated_by"] == "admin" and updated["sys_mod_count"] == "1"
    assert emulator.store.journal(created["sys_id"])[0]["sys_created_by"] == "admin"


async def test_state_rules_resolve_hold_and_reopen(http: aiohttp.ClientSession) -> None:
    created = await _create(http, short_description="x")
    url = f"{INCIDENTS}/{created['sys_id']}"
    async with http.patch(url, json={"state": "3", "hold_reason": "1"}) as response:
        held = (await response.json())["result"]
    assert (held["state"], held["hold_reason"]) == ("3", "1")
    body = {"state": "6", "close_code": "Solution provided", "close_notes": "fixed"}
    async with http.patch(url, json=body) as response:
        resolved = (await response.json())["result"]
    assert resolved["hold_reason"] == "" and resolved["resolved_at"] != "" and resolved["resolved_by"] != ""
    async with http.patch(url, json={"state": "7"}) as response:
        closed = (await response.json())["result"]
    assert closed["active"] == "false" and closed["closed_at"] != ""


async def test_unchanged_update_does_not_bump_mod_count(http: aiohttp.ClientSession) -> None:
    created = await _create(http, short_description="same")
    async with http.patch(f"{INCIDENTS}/{created['sys_id']}", json={"short_description": "same"}) as response:
        assert (await response.json())["result"]["sys_mod_count"] == "0"


async def test_x_no_response_body_suppresses_the_body(http: aiohttp.ClientSession) -> None:
    headers = {"X-no-response-body": "true"}
    async with http.post(INCIDENTS, json={"short_description": "quiet"}, headers=headers) as response:
        assert response.status == 201 and await response.read() == b""
        assert "Location" in response.headers


async def test_delete_answers_204_then_404(http: aiohttp.ClientSession) -> None:
    created = await _create(http, short_description="x")
    async with http.delete(f"{INCIDENTS}/{created['sys_id']}") as response:
        assert response.status == 204
    async with http.delete(f"{INCIDENTS}/{created['sys_id']}") as response:
        assert response.status == 404


def _envelope(body: dict, message: str) -> None:
    assert body["status"] == "failure"
    assert body["error"]["message"] == message
    assert "detail" in body["error"]


async def test_wrong_password_is_401_with_envelope(emulator: Emulator) -> None:
    bad = {"Authorization": aiohttp.encode_basic_auth("admin", "wrong"), **JSON}
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=bad) as session:
        async with session.get(INCIDENTS) as response:
            assert response.status == 401
            _envelope(await response.json(), "User Not Authenticated")
        async with session.get(INCIDENTS, headers={"Authorization": "Basic !!!"}) as response:
            assert response.status == 401


async def test_missing_record_is_404_with_envelope(http: aiohttp.ClientSession) -> None:
    async with http.get(f"{INCIDENTS}/{'a' * 32}") as response:
        assert response.status == 404
        body = await response.json()
    _envelope(body, "No Record found")
    assert body["error"]["detail"] == "Record doesn't exist or ACL restricts the record retrieval"


async def test_unknown_table_is_400(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/now/table/cmdb_ci_fake") as response:
        assert response.status == 400
        _envelope(await response.json(), "Invalid table cmdb_ci_fake")


async def test_versioned_path_works(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/now/v2/table/sys_user_group") as response:
        assert response.status == 200


async def test_accept_and_content_type_rules(emulator: Emulator) -> None:
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=ADMIN_AUTH) as session:
        async with session.get(INCIDENTS, headers={"Accept": "application/xml"}) as response:
            assert response.status == 406
        headers = {"Accept": "application/json", "Content-Type": "text/plain"}
        async with session.post(INCIDENTS, data=b"{}", headers=headers) as response:
            assert response.status == 415
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        async with session.post(INCIDENTS, data=b"{not json", headers=headers) as response:
            assert response.status == 400
            _envelope(await response.json(), "Exception while reading request")


async def test_state_dir_keeps_records_across_restarts(tmp_path, aiohttp_server) -> None:
    from emulators.servicenow import EmulatorConfig, create_servicenow_emulator

    config = EmulatorConfig(state_dir=tmp_path / "nested" / "sn")
    first = await aiohttp_server(create_servicenow_emulator(config))
    auth = {"Authorization": aiohttp.encode_basic_auth("admin", "admin"), **JSON}
    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.post(first.make_url(INCIDENTS), json={"short_description": "persist"}) as response:
            assert response.status == 201
        await first.close()
        second = await aiohttp_server(create_servicenow_emulator(config))
        async with session.get(second.make_url(INCIDENTS), params={"sysparm_fields": "number"}) as response:
            assert (await response.json())["result"] == [{"number": "INC0010001"}]
        async with session.post(second.make_url(INCIDENTS), json={"short_description": "next"}) as response:
            assert (await response.json())["result"]["number"] == "INC0010002"
    assert (tmp_path / "nested" / "sn" / "servicenow.db").exists()
