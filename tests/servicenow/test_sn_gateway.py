"""The gateway's operations against the emulator (real pysnow over loopback)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from testkit.servicenow import ADMIN_AUTH, JSON, Emulator

from emulators.servicenow.config import INTEGRATION_USER
from servicenow.errors import ServiceNowRejected, UnsafeQueryValue
from servicenow.gateway import IncidentDraft, ServiceNowConfig, ServiceNowGateway


def _draft(cid: str, **extra: object) -> IncidentDraft:
    return IncidentDraft(cid, "Kiosk frozen", "long text", "Pat Site", "aad-1", "Scheduling Support", **extra)


async def test_create_fills_the_incident_from_the_draft(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-1", comments="first words", assigned_to="jdoe"))
    row = emulator.store.get("incident", record.sys_id)
    assert (row["short_description"], row["description"]) == ("Kiosk frozen", "long text")
    assert (row["category"], row["contact_type"], row["correlation_display"]) == (
        "inquiry",
        "chat",
        "eCheck-in Go Live",
    )
    assert (row["impact"], row["urgency"], row["priority"]) == ("3", "3", "5")
    assert record.assigned_to == "jdoe" and record.assigned_to_name == "Jane Doe"
    assert record.state == 1 and record.state_label == "New"
    assert [j["value"] for j in emulator.store.journal(record.sys_id)] == ["first words"]
    assert "Kiosk" not in repr(record) and "Pat" not in repr(_draft("x"))


async def test_updates_move_group_assignee_state_and_resolve(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-2"))
    moved = await gateway.set_assignment_group(record.sys_id, "eCheck-in Vet Facing Apps")
    assert moved.assignment_group == "eCheck-in Vet Facing Apps" and moved.sys_mod_count == 1
    assigned = await gateway.assign_to(record.sys_id, "rroe")
    assert assigned.assigned_to == "rroe"
    unassigned = await gateway.assign_to(record.sys_id, None)
    assert unassigned.assigned_to is None
    held = await gateway.set_state(record.sys_id, 3, hold_reason="1")
    assert (held.state, held.state_label, held.hold_reason) == (3, "On Hold", "1")
    resolved = await gateway.resolve(record.sys_id, "Solution provided", "Restarted the kiosk")
    assert (resolved.state, resolved.close_code, resolved.close_notes) == (
        6,
        "Solution provided",
        "Restarted the kiosk",
    )
    assert resolved.hold_reason == "" and resolved.resolved_at is not None
    again = await gateway.get_incident(record.sys_id)
    assert again == resolved


async def test_unknown_group_or_user_is_rejected(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-3"))
    with pytest.raises(ServiceNowRejected):
        await gateway.set_assignment_group(record.sys_id, "No Such Group")
    with pytest.raises(ServiceNowRejected):
        await gateway.assign_to(record.sys_id, "nobody")


async def test_group_lookups_are_cached(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    await gateway.create_incident(_draft("teams-4"))
    await gateway.create_incident(_draft("teams-5"))
    lookups = [c for c in emulator.faults.calls if c[2].endswith("/sys_user_group")]
    assert len(lookups) == 1


async def test_updated_since_pages_through_everything(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway(page_size=2)
    for n in range(5):
        await gateway.create_incident(_draft(f"teams-p{n}"))
    since = datetime.now(UTC) - timedelta(minutes=5)
    records = await gateway.incidents_updated_since(since, "eCheck-in Go Live")
    assert sorted(r.correlation_id for r in records) == [f"teams-p{n}" for n in range(5)]
    assert await gateway.incidents_updated_since(since, "another integration") == []
    assert (
        await gateway.incidents_updated_since(datetime.now(UTC) + timedelta(hours=1), "eCheck-in Go Live")
        == []
    )


async def test_journal_since_returns_comments_and_notes_with_authors(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-j"))
    await gateway.add_comment(record.sys_id, "from the bridge")
    await gateway.add_work_note(record.sys_id, "internal note")
    async with aiohttp.ClientSession(base_url=emulator.base_url, headers={**ADMIN_AUTH, **JSON}) as admin:
        url = f"/api/now/table/incident/{record.sys_id}"
        async with admin.patch(url, json={"comments": "engineer answer"}) as response:
            assert response.status == 200
    entries = await gateway.journal_since(
        [record.sys_id, "not-a-sys-id"], datetime.now(UTC) - timedelta(minutes=1)
    )
    assert [(e.element, e.value, e.created_by) for e in entries] == [
        ("comments", "from the bridge", INTEGRATION_USER),
        ("work_notes", "internal note", INTEGRATION_USER),
        ("comments", "engineer answer", "admin"),
    ]
    assert all(e.incident_sys_id == record.sys_id for e in entries)


async def test_unsafe_correlation_id_is_refused_before_any_call(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    with pytest.raises(UnsafeQueryValue):
        await gateway.create_incident(_draft("x^NQactive=true"))
    assert emulator.incidents() == [] and len(emulator.faults.calls) == 0


async def test_incident_url_uses_ui_base_and_redirects_to_the_form(emulator: Emulator) -> None:
    config = ServiceNowConfig(emulator.base_url, INTEGRATION_USER, "golive-dev-password", timeout_s=2)
    async with ServiceNowGateway(config) as gateway:
        record = await gateway.create_incident(_draft("teams-url"))
    async with aiohttp.ClientSession() as session:
        async with session.get(record.url) as response:
            assert response.status == 200
            assert str(response.url).endswith(f"/incident.do?sys_id={record.sys_id}")
            assert record.number in await response.text()


def test_config_repr_masks_the_password() -> None:
    assert "s3cret" not in repr(ServiceNowConfig("https://x.service-now.com", "u", "s3cret"))
    with pytest.raises(ValueError):
        ServiceNowGateway(ServiceNowConfig("x.service-now.com", "u", "p"))


async def test_gateway_and_raw_http_see_the_same_incident(
    emulator: Emulator, http: aiohttp.ClientSession, gateway: ServiceNowGateway
) -> None:
    created = await gateway.create_incident(
        IncidentDraft("teams-abc", "Kiosk frozen", "details", "Pat", "aad-1", "Scheduling Support")
    )
    async with http.get(
        f"/api/now/table/incident/{created.sys_id}", params={"sysparm_display_value": "all"}
    ) as r:
        raw = (await r.json())["result"]
    assert raw["number"]["value"] == created.number
    assert raw["assignment_group"]["display_value"] == created.assignment_group == "Scheduling Support"
    assert raw["correlation_id"]["value"] == "teams-abc"
    opened_by = raw["opened_by"]
    assert (opened_by["value"] if isinstance(opened_by, dict) else opened_by) != ""
    assert created.url == f"{emulator.base_url}/nav_to.do?uri=incident.do?sys_id={created.sys_id}"
