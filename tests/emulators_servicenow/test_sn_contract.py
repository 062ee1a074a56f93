"""One Table API contract, run twice: raw HTTP (aiohttp) and real pysnow over loopback.

If the emulator and what pysnow sees could drift apart, one of the two runs fails.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol

import aiohttp
import pysnow
import pytest
import requests
from testkit.servicenow import Emulator

from emulators.servicenow.config import INTEGRATION_PASSWORD, INTEGRATION_USER


class Backend(Protocol):
    async def create(self, table: str, payload: dict[str, Any]) -> dict[str, Any]: ...
    async def get(self, table: str, sys_id: str) -> dict[str, Any] | None: ...
    async def query(self, table: str, query: str, **params: Any) -> list[dict[str, Any]]: ...
    async def update(self, table: str, sys_id: str, payload: dict[str, Any]) -> dict[str, Any]: ...
    async def delete(self, table: str, sys_id: str) -> None: ...


class RawBackend:
    def __init__(self, session: aiohttp.ClientSession):
        self.session = session

    async def create(self, table: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"/api/now/table/{table}", json=payload) as response:
            assert response.status == 201
            body = await response.json()
            assert response.headers["Location"].endswith(f"/api/now/table/{table}/{body['result']['sys_id']}")
            return body["result"]

    async def get(self, table: str, sys_id: str) -> dict[str, Any] | None:
        async with self.session.get(f"/api/now/table/{table}/{sys_id}") as response:
            if response.status == 404:
                return None
            assert response.status == 200
            return (await response.json())["result"]

    async def query(self, table: str, query: str, **params: Any) -> list[dict[str, Any]]:
        wire = {"sysparm_query": query}
        for key, value in params.items():
            wire[f"sysparm_{key}"] = ",".join(value) if isinstance(value, list) else str(value)
        async with self.session.get(f"/api/now/table/{table}", params=wire) as response:
            assert response.status == 200
            return (await response.json())["result"]

    async def update(self, table: str, sys_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.session.patch(f"/api/now/table/{table}/{sys_id}", json=payload) as response:
            assert response.status == 200
            return (await response.json())["result"]

    async def delete(self, table: str, sys_id: str) -> None:
        async with self.session.delete(f"/api/now/table/{table}/{sys_id}") as response:
            assert response.status == 204


class PysnowBackend:
    """Real pysnow in a worker thread (the emulator lives in this test's event loop)."""

    def __init__(self, base_url: str):
        host = base_url.split("://", 1)[1]
        self.client = pysnow.Client(
            host=host, use_ssl=False, user=INTEGRATION_USER, password=INTEGRATION_PASSWORD
        )

    def _resource(self, table: str) -> Any:
        return self.client.resource(api_path=f"/table/{table}", timeout=5)

    async def create(self, table: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(lambda: self._resource(table).create(payload).one())

    async def get(self, table: str, sys_id: str) -> dict[str, Any] | None:
        def work() -> dict[str, Any] | None:
            try:
                return self._resource(table).request("GET", path_append=f"/{sys_id}").one()
            except requests.HTTPError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    return None
                raise

        return await asyncio.to_thread(work)

    async def query(self, table: str, query: str, **params: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(lambda: list(self._resource(table).get(query=query, **params).all()))

    async def update(self, table: str, sys_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        # pysnow's own update(): a GET by query, then PUT carrying that GET's parameters.
        return await asyncio.to_thread(
            lambda: self._resource(table).update({"sys_id": sys_id}, payload).one()
        )

    async def delete(self, table: str, sys_id: str) -> None:
        result = await asyncio.to_thread(lambda: self._resource(table).delete({"sys_id": sys_id}))
        assert result == {"status": "record deleted"}

    def close(self) -> None:
        self.client.close()


@pytest.fixture(params=["raw-http", "pysnow"])
async def backend(request: pytest.FixtureRequest, emulator: Emulator, http: aiohttp.ClientSession) -> Any:
    if request.param == "raw-http":
        yield RawBackend(http)
        return
    pysnow_backend = PysnowBackend(emulator.base_url)
    yield pysnow_backend
    pysnow_backend.close()


def _ref_value(field: Any) -> str:
    return field["value"] if isinstance(field, dict) else field


async def _group_id(backend: Backend, name: str = "Scheduling Support") -> str:
    rows = await backend.query("sys_user_group", f"name={name}", fields=["sys_id", "name"], limit=1)
    assert len(rows) == 1
    return rows[0]["sys_id"]


async def test_create_incident_returns_string_fields_number_and_sys_id(backend: Backend) -> None:
    group = await _group_id(backend)
    record = await backend.create(
        "incident",
        {"short_description": "Kiosk frozen", "assignment_group": group, "impact": 2, "urgency": 2},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", record["sys_id"])
    assert re.fullmatch(r"INC\d{7}", record["number"])
    assert record["number"] == "INC0010001"
    assert record["priority"] == "3"  # impact 2 x urgency 2
    assert record["impact"] == "2" and record["state"] == "1" and record["sys_mod_count"] == "0"
    assert record["sys_created_by"] == INTEGRATION_USER
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", record["sys_created_on"])
    assert record["assignment_group"]["value"] == group
    assert record["assignment_group"]["link"].endswith(f"/api/now/table/sys_user_group/{group}")
    assert record["assigned_to"] == ""
    assert all(isinstance(v, str | dict) for v in record.values())


async def test_numbers_count_up_from_inc0010001(backend: Backend) -> None:
    first = await backend.create("incident", {"short_description": "one"})
    second = await backend.create("incident", {"short_description": "two"})
    assert (first["number"], second["number"]) == ("INC0010001", "INC0010002")


async def test_comment_becomes_journal_row_and_reads_back_empty(backend: Backend) -> None:
    record = await backend.create("incident", {"short_description": "x", "comments": "first words"})
    assert record["comments"] == ""
    updated = await backend.update("incident", record["sys_id"], {"work_notes": "internal"})
    assert updated["work_notes"] == "" and updated["sys_mod_count"] == "1"
    rows = await backend.query(
        "sys_journal_field",
        f"element_id={record['sys_id']}^elementINcomments,work_notes^ORDERBYsys_created_on",
    )
    assert [(r["element"], r["value"], r["name"], r["sys_created_by"]) for r in rows] == [
        ("comments", "first words", "incident", INTEGRATION_USER),
        ("work_notes", "internal", "incident", INTEGRATION_USER),
    ]


async def test_update_bumps_sys_mod_count_and_keeps_unchanged_fields(backend: Backend) -> None:
    record = await backend.create("incident", {"short_description": "keep me", "correlation_id": "c-77"})
    updated = await backend.update("incident", record["sys_id"], {"state": "2"})
    assert updated["state"] == "2" and updated["incident_state"] == "2"
    assert updated["sys_mod_count"] == "1"
    assert updated["short_description"] == "keep me" and updated["correlation_id"] == "c-77"


async def test_query_by_correlation_id_finds_exactly_the_match(backend: Backend) -> None:
    await backend.create("incident", {"short_description": "a", "correlation_id": "teams-1"})
    await backend.create("incident", {"short_description": "b", "correlation_id": "teams-2"})
    rows = await backend.query("incident", "correlation_id=teams-2", fields=["number", "correlation_id"])
    assert rows == [{"number": "INC0010002", "correlation_id": "teams-2"}]


async def test_display_value_all_gives_display_and_value(backend: Backend) -> None:
    group = await _group_id(backend)
    record = await backend.create("incident", {"short_description": "x", "assignment_group": group})
    rows = await backend.query(
        "incident", f"sys_id={record['sys_id']}", fields=["state", "assignment_group"], display_value="all"
    )
    assert rows[0]["state"] == {"display_value": "New", "value": "1"}
    assert rows[0]["assignment_group"]["display_value"] == "Scheduling Support"
    assert rows[0]["assignment_group"]["value"] == group


async def test_delete_removes_the_record(backend: Backend) -> None:
    record = await backend.create("incident", {"short_description": "gone soon"})
    await backend.delete("incident", record["sys_id"])
    assert await backend.get("incident", record["sys_id"]) is None


async def test_missing_record_is_not_found(backend: Backend) -> None:
    assert await backend.get("incident", "0" * 32) is None


async def test_seeded_groups_and_users_exist(backend: Backend) -> None:
    groups = {r["name"] for r in await backend.query("sys_user_group", "", fields=["name"])}
    assert {"Scheduling Support", "eCheck-in Vet Facing Apps"} <= groups
    users = {r["user_name"] for r in await backend.query("sys_user", "", fields=["user_name"])}
    assert {"admin", INTEGRATION_USER, "jdoe", "rroe"} <= users
