"""pysnc (ServiceNow's own Python client) drives the emulator over loopback HTTPS.

pysnc is synchronous (requests), so each test runs its pysnc steps in a worker thread while the
emulator serves from the test's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pysnc
import pytest
import requests
from testkit.servicenow import ADMIN_AUTH, JSON, Emulator

from emulators.servicenow.config import INTEGRATION_USER

Pysnc = Callable[..., pysnc.ServiceNowClient]


def _seed_incidents(emulator: Emulator, *rows: dict[str, str]) -> list[dict[str, str]]:
    return [emulator.store.insert("incident", row, user="admin") for row in rows]


def _user(emulator: Emulator, user_name: str) -> dict[str, str]:
    row = emulator.store.find("sys_user", user_name=user_name)
    assert row is not None
    return row


def _group_id(emulator: Emulator, name: str = "Scheduling Support") -> str:
    row = emulator.store.find("sys_user_group", name=name)
    assert row is not None
    return row["sys_id"]


def _batch_calls(emulator: Emulator) -> list[tuple[float, str, str, int]]:
    return [c for c in emulator.faults.calls if c[2] == "/api/now/v1/batch"]


async def test_query_with_an_encoded_query_finds_exactly_the_matches(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    _seed_incidents(
        tls_emulator,
        {"short_description": "printer", "category": "hardware", "impact": "1"},
        {"short_description": "vpn", "category": "network", "impact": "2"},
        {"short_description": "link", "category": "network", "impact": "3"},
    )
    client = make_pysnc(tls_emulator)

    def work() -> tuple[list[str], list[str], int]:
        gr = client.GlideRecord("incident")
        gr.add_encoded_query("category=network^impact<3")
        gr.query()
        encoded = [r.short_description.get_value() for r in gr]
        built = client.GlideRecord("incident")
        built.add_query("impact", "IN", "1,3")
        built.order_by_desc("impact")
        built.query()
        return encoded, [r.short_description.get_value() for r in built], len(built)

    encoded, built, total = await asyncio.to_thread(work)
    assert encoded == ["vpn"]
    assert built == ["link", "printer"] and total == 2


async def test_get_by_sys_id_and_by_field(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    [row] = _seed_incidents(tls_emulator, {"short_description": "kiosk", "correlation_id": "teams-7"})
    client = make_pysnc(tls_emulator)

    def work() -> tuple[bool, str, bool, bool, str]:
        gr = client.GlideRecord("incident")
        found = gr.get(row["sys_id"])
        number = gr.number.get_value()
        missing = client.GlideRecord("incident").get("0" * 32)
        by_field = client.GlideRecord("incident")
        return found, number, missing, by_field.get("correlation_id", "teams-7"), by_field.get_value("sys_id")

    found, number, missing, by_field_found, by_field_sys_id = await asyncio.to_thread(work)
    assert (found, number, missing) == (True, row["number"], False)
    assert by_field_found and by_field_sys_id == row["sys_id"]


async def test_insert_creates_the_record_and_reads_back_what_the_instance_computed(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    group = _group_id(tls_emulator)
    client = make_pysnc(tls_emulator)
    sent: list[requests.PreparedRequest] = []
    client.session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request))

    def work() -> tuple[str, str, str, str]:
        gr = client.GlideRecord("incident")
        gr.initialize()
        gr.short_description = "Kiosk frozen"
        gr.assignment_group = group
        gr.impact = "2"
        gr.urgency = "2"
        sys_id = str(gr.insert())
        return sys_id, gr.number.get_value(), gr.priority.get_value(), gr.get_display_value("state")

    sys_id, number, priority, state = await asyncio.to_thread(work)
    row = tls_emulator.store.get("incident", sys_id)
    assert row is not None and row["number"] == number == "INC0010001"
    assert (row["short_description"], row["assignment_group"]) == ("Kiosk frozen", group)
    assert priority == "3" and state == "New"
    assert row["sys_created_by"] == INTEGRATION_USER
    # What pysnc sends: basic auth, JSON both ways, and its display/link switches on every call.
    [post] = sent
    assert post.headers["Authorization"].startswith("Basic ")
    assert post.headers["Accept"] == "application/json" and post.headers["Content-Type"] == "application/json"
    assert "sysparm_display_value=all" in post.url and "sysparm_exclude_reference_link=true" in post.url


async def test_update_patches_only_the_changed_fields(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    [row] = _seed_incidents(tls_emulator, {"short_description": "keep me", "correlation_id": "c-1"})
    client = make_pysnc(tls_emulator)
    bodies: list[bytes] = []
    client.session.hooks["response"].append(
        lambda r, *a, **k: bodies.append(r.request.body) if r.request.method == "PATCH" else None
    )

    def work() -> tuple[str, str]:
        gr = client.GlideRecord("incident")
        assert gr.get(row["sys_id"])
        gr.state = "2"
        gr.update()
        return gr.get_value("sys_mod_count"), gr.get_display_value("state")

    mod_count, state = await asyncio.to_thread(work)
    stored = tls_emulator.store.get("incident", row["sys_id"])
    assert stored is not None
    assert (stored["state"], stored["short_description"], stored["correlation_id"]) == ("2", "keep me", "c-1")
    assert (mod_count, state) == ("1", "In Progress")
    assert [json.loads(b) for b in bodies] == [{"state": "2"}]


async def test_delete_removes_the_record(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    [row] = _seed_incidents(tls_emulator, {"short_description": "gone soon"})
    client = make_pysnc(tls_emulator)

    def work() -> bool:
        gr = client.GlideRecord("incident")
        assert gr.get(row["sys_id"])
        return bool(gr.delete())

    assert await asyncio.to_thread(work) is True
    assert tls_emulator.store.get("incident", row["sys_id"]) is None


async def test_display_values_come_with_values_and_links_only_when_asked(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    group = _group_id(tls_emulator)
    [row] = _seed_incidents(tls_emulator, {"short_description": "x", "assignment_group": group})
    client = make_pysnc(tls_emulator)

    def work(exclude_links: bool) -> tuple[Any, Any, Any, Any]:
        gr = client.GlideRecord("incident")
        gr.exclude_reference_link = exclude_links
        gr.fields = "state,assignment_group,assigned_to"
        gr.add_query("sys_id", row["sys_id"])
        gr.query()
        assert gr.next()
        element = gr.get_element("assignment_group")
        return (
            element.get_value(),
            element.get_display_value(),
            element.get_link(),
            gr.get_display_value("state"),
        )

    value, shown, link, state = await asyncio.to_thread(work, True)
    assert (value, shown, link, state) == (group, "Scheduling Support", None, "New")
    value, shown, link, _ = await asyncio.to_thread(work, False)
    assert (value, shown) == (group, "Scheduling Support")
    assert link == f"{tls_emulator.base_url}/api/now/table/sys_user_group/{group}"


async def test_display_value_all_on_the_wire(http: aiohttp.ClientSession, emulator: Emulator) -> None:
    group = _group_id(emulator)
    [row] = _seed_incidents(emulator, {"short_description": "x", "assignment_group": group})
    params = {
        "sysparm_display_value": "all",
        "sysparm_fields": "number,state,assignment_group,assigned_to,caller_id.email",
    }
    async with http.get(f"/api/now/table/incident/{row['sys_id']}", params=params) as response:
        linked = (await response.json())["result"]
    assert linked["state"] == {"display_value": "New", "value": "1"}
    assert linked["number"] == {"display_value": row["number"], "value": row["number"]}
    assert linked["assignment_group"] == {
        "display_value": "Scheduling Support",
        "value": group,
        "link": f"{emulator.base_url}/api/now/table/sys_user_group/{group}",
    }
    assert linked["assigned_to"] == {"display_value": "", "value": ""}
    assert linked["caller_id.email"] == {"display_value": "", "value": ""}
    params["sysparm_exclude_reference_link"] = "true"
    async with http.get(f"/api/now/table/incident/{row['sys_id']}", params=params) as response:
        bare = (await response.json())["result"]
    assert bare["assignment_group"] == {"display_value": "Scheduling Support", "value": group}


async def test_paging_reads_every_page_with_limit_and_offset(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    _seed_incidents(tls_emulator, *({"short_description": f"n{n}", "category": "paged"} for n in range(7)))
    _seed_incidents(tls_emulator, {"short_description": "other", "category": "other"})
    client = make_pysnc(tls_emulator)
    urls: list[str] = []
    client.session.hooks["response"].append(lambda r, *a, **k: urls.append(r.request.url))

    def work() -> tuple[list[str], int]:
        gr = client.GlideRecord("incident", batch_size=3)
        gr.add_query("category", "paged")
        gr.order_by("short_description")
        gr.query()
        return [r.short_description.get_value() for r in gr], len(gr)

    seen, total = await asyncio.to_thread(work)
    assert seen == [f"n{n}" for n in range(7)] and total == 7
    offsets = [u.split("sysparm_offset=")[1].split("&")[0] for u in urls]
    assert offsets == ["0", "3", "6"] and all("sysparm_limit=3" in u for u in urls)


async def test_link_header_leads_from_the_first_page_to_the_last(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    _seed_incidents(emulator, *({"short_description": f"n{n}", "category": "linked"} for n in range(5)))
    url: str | None = "/api/now/table/incident"
    params: dict[str, str] | None = {
        "sysparm_query": "category=linked^ORDERBYshort_description",
        "sysparm_limit": "2",
        "sysparm_fields": "short_description",
    }
    seen: list[str] = []
    pages = 0
    while url is not None:
        async with http.get(url, params=params) as response:
            assert response.headers["X-Total-Count"] == "5"
            seen += [r["short_description"] for r in (await response.json())["result"]]
            links = {rel.strip('"'): target.strip("<>") for target, rel in _links(response.headers["Link"])}
        assert "first" in links and "last" in links
        url, params, pages = links.get("next"), None, pages + 1
    assert seen == [f"n{n}" for n in range(5)] and pages == 3
    async with http.get(
        "/api/now/table/incident",
        params={"sysparm_query": "category=linked", "sysparm_suppress_pagination_header": "true"},
    ) as response:
        assert "Link" not in response.headers and response.headers["X-Total-Count"] == "5"


def _links(header: str) -> list[tuple[str, str]]:
    return [(target, rel) for target, _, rel in (part.partition(";rel=") for part in header.split(","))]


async def test_long_queries_go_through_the_batch_api(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    rows = _seed_incidents(tls_emulator, *({"short_description": f"n{n}"} for n in range(3)))
    client = make_pysnc(tls_emulator)
    # pysnc sends a query longer than about 10000 characters as a batched GET.
    numbers = [row["number"] for row in rows] + [f"INC{n:07d}" for n in range(20000, 21500)]

    def work() -> list[str]:
        gr = client.GlideRecord("incident")
        gr.add_query("number", "IN", ",".join(numbers))
        gr.query()
        return sorted(r.number.get_value() for r in gr)

    assert await asyncio.to_thread(work) == sorted(row["number"] for row in rows)
    assert len(_batch_calls(tls_emulator)) == 1


async def test_batch_update_through_update_multiple(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    rows = _seed_incidents(
        tls_emulator, *({"short_description": f"n{n}", "category": "bulk"} for n in range(4))
    )
    _seed_incidents(tls_emulator, {"short_description": "untouched", "category": "other"})
    client = make_pysnc(tls_emulator)

    def work() -> bool:
        gr = client.GlideRecord("incident")
        gr.add_query("category", "bulk")
        gr.query()
        for record in gr:
            record.state = "2"
            record.work_notes = "bulk triage"
        return bool(gr.update_multiple())

    assert await asyncio.to_thread(work) is True
    states = {r["short_description"]: r["state"] for r in tls_emulator.incidents()}
    assert states == {"n0": "2", "n1": "2", "n2": "2", "n3": "2", "untouched": "1"}
    assert all(tls_emulator.store.journal(r["sys_id"])[0]["value"] == "bulk triage" for r in rows)
    assert all(r["sys_updated_by"] == INTEGRATION_USER for r in tls_emulator.incidents() if r["state"] == "2")
    assert len(_batch_calls(tls_emulator)) == 1


async def test_batch_delete_through_delete_multiple(tls_emulator: Emulator, make_pysnc: Pysnc) -> None:
    _seed_incidents(tls_emulator, *({"short_description": f"n{n}", "category": "doomed"} for n in range(5)))
    _seed_incidents(tls_emulator, {"short_description": "kept", "category": "other"})
    client = make_pysnc(tls_emulator)

    def work() -> bool:
        gr = client.GlideRecord("incident")
        gr.add_query("category", "doomed")
        return bool(gr.delete_multiple())

    assert await asyncio.to_thread(work) is True
    assert [r["short_description"] for r in tls_emulator.incidents()] == ["kept"]
    assert len(_batch_calls(tls_emulator)) == 1


async def test_unserviced_batch_items_are_sent_again_by_pysnc(
    make_tls_emulator: Callable[..., Any], make_pysnc: Pysnc
) -> None:
    emulator = await make_tls_emulator(batch_max_requests=2)
    _seed_incidents(emulator, *({"short_description": f"n{n}", "category": "capped"} for n in range(5)))
    client = make_pysnc(emulator)

    def work() -> bool:
        gr = client.GlideRecord("incident")
        gr.add_query("category", "capped")
        gr.query()
        for record in gr:
            record.urgency = "1"
        return bool(gr.update_multiple())

    assert await asyncio.to_thread(work) is True
    assert {r["urgency"] for r in emulator.incidents()} == {"1"}
    assert len(_batch_calls(emulator)) == 3  # 2 + 2 + 1 items


async def test_batch_answers_each_item_and_one_bad_item_harms_no_neighbour(
    http: aiohttp.ClientSession, emulator: Emulator
) -> None:
    [row] = _seed_incidents(emulator, {"short_description": "x"})

    def encoded(body: dict[str, Any]) -> str:
        return base64.b64encode(json.dumps(body).encode()).decode()

    json_headers = [{"name": "Content-Type", "value": "application/json"}]
    batch = {
        "batch_request_id": "b-1",
        "rest_requests": [
            {"id": "1", "method": "PATCH", "url": f"/api/now/table/incident/{row['sys_id']}",
             "headers": json_headers, "body": encoded({"state": "2"})},
            {"id": "2", "method": "PATCH", "url": f"/api/now/table/incident/{row['sys_id']}",
             "headers": json_headers, "body": "%%% not base64"},
            {"id": "3", "method": "GET", "url": "/api/now/v2/table/incident?sysparm_fields=state",
             "exclude_response_headers": True},
            {"id": "4", "method": "GET", "url": "/api/global/user_role_inheritance"},
            {"id": "5", "method": "BREW", "url": "/api/now/table/incident"},
            {"id": "6", "method": "DELETE", "url": f"/api/now/table/incident/{'0' * 32}"},
            {"id": "7", "method": "GET", "url": "/api/now/table/incident?sysparm_fields=number"},
        ],
    }  # fmt: skip
    async with http.post("/api/now/v1/batch", json=batch) as response:
        assert response.status == 200
        answer = await response.json()
    assert answer["batch_request_id"] == "b-1" and answer["unserviced_requests"] == []
    items = {item["id"]: item for item in answer["serviced_requests"]}
    assert {k: v["status_code"] for k, v in items.items()} == {
        "1": 200, "2": 400, "3": 200, "4": 400, "5": 400, "6": 404, "7": 200,
    }  # fmt: skip
    assert json.loads(base64.b64decode(items["1"]["body"]))["result"]["state"] == "2"
    assert json.loads(base64.b64decode(items["3"]["body"]))["result"] == [{"state": "2"}]
    assert items["3"]["headers"] == []
    assert {"name": "X-Total-Count", "value": "1"} in items["7"]["headers"]
    assert "application/json" in {
        h["value"].split(";")[0] for h in items["1"]["headers"] if h["name"] == "Content-Type"
    }
    assert items["6"]["error_message"] == "No Record found"
    assert all(isinstance(item["execution_time"], int) for item in items.values())


@pytest.mark.parametrize(
    "body",
    [b"[]", b"{not json", b'{"rest_requests": {}}', b'{"rest_requests": [{"method": "GET"}]}', b""],
)
async def test_unreadable_batch_is_400_with_the_envelope(http: aiohttp.ClientSession, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with http.post("/api/now/v1/batch", data=body, headers=headers) as response:
        assert response.status == 400
        answer = await response.json()
    assert answer["status"] == "failure" and answer["error"]["message"] == "Exception while reading request"


async def test_batch_needs_authentication(emulator: Emulator) -> None:
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers=JSON) as anonymous:
        async with anonymous.post("/api/now/v1/batch", json={"rest_requests": []}) as response:
            assert response.status == 401


async def test_caller_assignee_and_resolver_are_references_to_people(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    caller, engineer = _user(tls_emulator, "pat.frontdesk"), _user(tls_emulator, "jdoe")
    client = make_pysnc(tls_emulator)

    def work() -> dict[str, tuple[Any, Any]]:
        gr = client.GlideRecord("incident")
        gr.initialize()
        gr.short_description = "Kiosk frozen"
        gr.caller_id = caller["sys_id"]
        gr.assigned_to = engineer["sys_id"]
        sys_id = gr.insert()
        resolved = client.GlideRecord("incident")
        assert resolved.get(sys_id)
        resolved.state = "6"
        resolved.close_code = "Solution provided"
        resolved.close_notes = "Restarted"
        resolved.resolved_by = engineer["sys_id"]
        resolved.update()
        names = ("caller_id", "assigned_to", "resolved_by", "opened_by")
        return {n: (resolved.get_value(n), resolved.get_display_value(n)) for n in names}

    fields = await asyncio.to_thread(work)
    assert fields["caller_id"] == (caller["sys_id"], "Pat Frontdesk")
    assert fields["assigned_to"] == (engineer["sys_id"], "Jane Doe")
    assert fields["resolved_by"] == (engineer["sys_id"], "Jane Doe")
    assert fields["opened_by"][1] == "Go Live Integration"


async def test_resolving_without_resolved_by_records_the_signed_in_user(
    tls_emulator: Emulator, make_pysnc: Pysnc
) -> None:
    [row] = _seed_incidents(tls_emulator, {"short_description": "x"})
    client = make_pysnc(tls_emulator, "admin", "admin")

    def work() -> tuple[str, str, str]:
        gr = client.GlideRecord("incident")
        assert gr.get(row["sys_id"])
        gr.state = "6"
        gr.close_code = "Solution provided"
        gr.close_notes = "fixed"
        gr.update()
        return gr.get_display_value("resolved_by"), gr.get_value("resolved_at"), gr.get_display_value("state")

    resolver, resolved_at, state = await asyncio.to_thread(work)
    assert (resolver, state) == ("System Administrator", "Resolved") and resolved_at != ""


async def test_people_are_seeded_with_their_email(emulator: Emulator) -> None:
    users = {u["user_name"]: (u["name"], u["email"]) for u in emulator.store.rows("sys_user")}
    assert users["pat.frontdesk"] == ("Pat Frontdesk", "pat.frontdesk@example.va.gov")
    assert users["sclerk"] == ("Sam Clerk", "Sam.Clerk@example.va.gov")
    assert users["morgan.manager"] == ("Morgan Manager", "morgan.manager@example.va.gov")
    assert users["jdoe"] == ("Jane Doe", "jane.doe@example.com")


async def test_display_value_input_finds_the_caller_by_user_name_or_email(
    emulator: Emulator,
) -> None:
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers={**ADMIN_AUTH, **JSON}) as admin:
        for given in ("sclerk", "Sam.Clerk@example.va.gov", "Sam Clerk"):
            async with admin.post(
                "/api/now/table/incident",
                params={"sysparm_input_display_value": "true", "sysparm_display_value": "true"},
                json={"short_description": "x", "caller_id": given},
            ) as response:
                created = (await response.json())["result"]
            assert created["caller_id"]["display_value"] == "Sam Clerk"
