"""The gateway and people: finding users, callers, acting engineers, refused fields, read-backs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from testkit.servicenow import Emulator

from emulators.servicenow.config import INTEGRATION_USER
from servicenow.errors import (
    GatewayClosed,
    IncidentNotFound,
    ServiceNowError,
    ServiceNowPermanent,
    ServiceNowRejected,
    ServiceNowTransient,
    ServiceNowUnavailable,
    UnexpectedFailure,
    UnsafeQueryValue,
)
from servicenow.gateway import IncidentDraft, IncidentRecord, ServiceNowGateway, _translate
from servicenow.model import STATE_IN_PROGRESS, STATE_ON_HOLD, STATE_RESOLVED, UserRef


def _draft(cid: str, **extra: Any) -> IncidentDraft:
    return IncidentDraft(cid, "Kiosk frozen", "long text", "Pat Site", "aad-1", "Scheduling Support", **extra)


def _table_calls(emulator: Emulator, table: str) -> list[tuple[float, str, str, int]]:
    return [c for c in emulator.faults.calls if c[2] == f"/api/now/table/{table}"]


def _sys_id(emulator: Emulator, user_name: str) -> str:
    row = emulator.store.find("sys_user", user_name=user_name)
    assert row is not None
    return str(row["sys_id"])


# ---- find_user --------------------------------------------------------------------------------


async def test_find_user_by_email_first(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    # The e-mail belongs to Sam Clerk; the user name to Jane Doe: the e-mail wins.
    found = await gateway.find_user("Sam.Clerk@example.va.gov", "jdoe")
    assert found == UserRef(_sys_id(emulator, "sclerk"), "sclerk", "Sam Clerk")
    assert "Sam" not in repr(found)


async def test_find_user_falls_back_to_the_user_name(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    found = await gateway.find_user("nobody@example.va.gov", "pat.frontdesk")
    assert found is not None and (found.user_name, found.name) == ("pat.frontdesk", "Pat Frontdesk")
    assert len(_table_calls(emulator, "sys_user")) == 2  # e-mail, then user name


async def test_find_user_without_a_match_is_none(gateway: ServiceNowGateway) -> None:
    assert await gateway.find_user("nobody@example.va.gov", "nobody") is None
    assert await gateway.find_user(None, None) is None


@pytest.mark.parametrize(
    ("email", "user_name"),
    [
        ("x^NQactive=true@example.va.gov", "jdoe"),
        (None, "jdoe^ORuser_nameISNOTEMPTY"),
        ("a@b", "javascript:x"),
    ],
)
async def test_unsafe_lookup_values_are_permanent_and_send_nothing(
    emulator: Emulator, gateway: ServiceNowGateway, email: str | None, user_name: str
) -> None:
    with pytest.raises(UnsafeQueryValue) as raised:
        await gateway.find_user(email, user_name)
    assert isinstance(raised.value, ServiceNowPermanent) and raised.value.transient is False
    assert emulator.faults.calls == type(emulator.faults.calls)()


async def test_find_user_answers_are_cached_for_the_ttl(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    now = [1000.0]
    gateway = make_gateway(user_cache_ttl_s=60.0)
    gateway._monotonic = lambda: now[0]  # the gateway's clock, moved by hand
    assert (await gateway.find_user(None, "jdoe")) is not None
    assert await gateway.find_user(None, "nobody") is None
    await gateway.find_user(None, "jdoe")
    await gateway.find_user(None, "nobody")
    assert len(_table_calls(emulator, "sys_user")) == 2
    now[0] += 61
    await gateway.find_user(None, "jdoe")
    assert len(_table_calls(emulator, "sys_user")) == 3


# ---- callers ---------------------------------------------------------------------------------


async def test_create_sets_caller_id_to_the_found_user(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    caller = await gateway.find_user("pat.frontdesk@example.va.gov", None)
    assert caller is not None
    record = await gateway.create_incident(_draft("teams-c1", caller_sys_id=caller.sys_id))
    row = emulator.store.get("incident", record.sys_id)
    assert row is not None and row["caller_id"] == caller.sys_id
    assert (record.caller_sys_id, record.caller_name) == (caller.sys_id, "Pat Frontdesk")


async def test_create_without_a_caller_leaves_caller_id_empty(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-c2"))
    row = emulator.store.get("incident", record.sys_id)
    assert row is not None and row["caller_id"] == "" and record.caller_sys_id == ""
    assert record.caller_name == "Pat Site"  # the name the bridge wrote, not a user record


def test_draft_caller_sys_id_must_be_a_sys_id() -> None:
    with pytest.raises(ValueError):
        _draft("teams-c3", caller_sys_id="Pat Site")


# ---- acting engineers and refused fields -----------------------------------------------------


async def test_resolve_records_the_acting_engineer(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-r1"))
    resolved = await gateway.resolve(record.sys_id, "Solution provided", "Restarted", resolved_by="jdoe")
    assert (resolved.state, resolved.state_label) == (STATE_RESOLVED, "Resolved")
    assert (resolved.resolved_by, resolved.resolved_by_name) == ("jdoe", "Jane Doe")
    assert resolved.refused_fields == frozenset() and not resolved.refused
    assert resolved.resolved_at is not None


async def test_resolve_without_resolved_by_records_the_integration_user(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-r2"))
    resolved = await gateway.resolve(record.sys_id, "Solution provided", "Restarted")
    assert (resolved.resolved_by, resolved.resolved_by_name) == (INTEGRATION_USER, "Go Live Integration")


async def test_resolve_by_someone_unknown_still_resolves_and_says_so(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-r3"))
    resolved = await gateway.resolve(record.sys_id, "Solution provided", "Restarted", resolved_by="ghost")
    assert resolved.state == STATE_RESOLVED and resolved.resolved_by == INTEGRATION_USER
    assert resolved.refused_fields == frozenset({"resolved_by"})


async def test_set_state_to_resolved_names_the_actor(gateway: ServiceNowGateway) -> None:
    record = await gateway.create_incident(_draft("teams-r4"))
    await gateway.set_state(record.sys_id, STATE_IN_PROGRESS, actor="rroe")
    resolved = await gateway.set_state(record.sys_id, STATE_RESOLVED, actor="rroe")
    assert resolved.resolved_by == "rroe"


@pytest.mark.parametrize("status", [403, 400])
async def test_a_refused_resolved_by_is_dropped_and_the_write_repeated(
    emulator: Emulator, gateway: ServiceNowGateway, status: int
) -> None:
    record = await gateway.create_incident(_draft(f"teams-f{status}"))
    emulator.faults.merge({"refuse_fields": {"fields": ["resolved_by"], "status": status}})
    resolved = await gateway.resolve(record.sys_id, "Solution provided", "Restarted", resolved_by="jdoe")
    assert resolved.state == STATE_RESOLVED and resolved.close_notes == "Restarted"
    assert resolved.resolved_by == INTEGRATION_USER
    assert resolved.refused_fields == frozenset({"resolved_by"}) and resolved.refused
    puts = [c[3] for c in emulator.faults.calls if c[1] == "PUT"]
    assert puts == [status, 200]


async def test_a_refused_assignee_leaves_the_incident_as_it_was(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-f2"))
    emulator.faults.merge({"refuse_fields": ["assigned_to"]})
    after = await gateway.assign_to(record.sys_id, "jdoe", actor="rroe")
    assert after.assigned_to is None and after.refused_fields == frozenset({"assigned_to"})
    assert after.sys_mod_count == record.sys_mod_count


async def test_a_silently_dropped_field_is_noticed_on_the_read_back(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-f3"))
    emulator.faults.merge({"refuse_fields": {"fields": ["assigned_to"], "silent": True}})
    after = await gateway.assign_to(record.sys_id, "jdoe")
    assert after.assigned_to is None and after.refused_fields == frozenset({"assigned_to"})


async def test_a_write_refused_with_and_without_the_field_is_rejected(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-f4"))
    emulator.faults.merge({"status": 403, "count": 2})
    with pytest.raises(ServiceNowRejected) as raised:
        await gateway.resolve(record.sys_id, "Solution provided", "x", resolved_by="jdoe")
    assert raised.value.status == 403


async def test_a_refusal_without_a_person_field_is_not_retried(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    record = await gateway.create_incident(_draft("teams-f5"))
    emulator.faults.merge({"status": 403, "count": 1})
    with pytest.raises(ServiceNowRejected):
        await gateway.resolve(record.sys_id, "Solution provided", "x")
    assert [c[3] for c in emulator.faults.calls if c[1] == "PUT"] == [403]


# ---- every write returns the record as ServiceNow now holds it -------------------------------


async def test_every_write_returns_the_record_read_back_after_it(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    created = await gateway.create_incident(
        _draft("teams-w1", caller_sys_id=_sys_id(emulator, "sclerk"), assigned_to="rroe")
    )
    writes: list[IncidentRecord] = [created]
    writes.append(
        await gateway.set_assignment_group(created.sys_id, "eCheck-in Vet Facing Apps", actor="jdoe")
    )
    writes.append(await gateway.assign_to(created.sys_id, "jdoe", actor="jdoe"))
    writes.append(await gateway.set_state(created.sys_id, STATE_ON_HOLD, "1", actor="jdoe"))
    writes.append(await gateway.add_comment(created.sys_id, "we are looking into it"))
    writes.append(await gateway.add_work_note(created.sys_id, "internal"))
    writes.append(await gateway.update_description(created.sys_id, "Kiosk frozen again", "new text"))
    writes.append(await gateway.resolve(created.sys_id, "Solution provided", "Restarted", resolved_by="jdoe"))
    assert [w.sys_mod_count for w in writes] == list(range(8))
    assert writes[-1] == await gateway.get_incident(created.sys_id)
    last = writes[-1]
    assert (last.state, last.state_label, last.assignment_group) == (
        6,
        "Resolved",
        "eCheck-in Vet Facing Apps",
    )
    assert (last.assigned_to, last.assigned_to_name, last.caller_name) == ("jdoe", "Jane Doe", "Sam Clerk")
    assert (last.resolved_by_name, last.close_code, last.close_notes) == (
        "Jane Doe",
        "Solution provided",
        "Restarted",
    )
    assert writes[3].hold_reason == "1" and writes[1].assigned_to == "rroe"


async def test_update_description_replaces_the_text_and_keeps_no_copy(
    emulator: Emulator, gateway: ServiceNowGateway
) -> None:
    created = await gateway.create_incident(
        IncidentDraft("teams-e1", "Old words here", "Old body text", "Pat", "aad", "Scheduling Support")
    )
    updated = await gateway.update_description(created.sys_id, "New words", "New body")
    assert updated.short_description == "New words" and updated.sys_mod_count == 1
    everything = [
        v
        for table in ("incident", "sys_journal_field")
        for r in emulator.store.rows(table)
        for v in r.values()
    ]
    assert not any("Old" in value for value in everything)
    assert emulator.store.journal(created.sys_id) == []


async def test_writes_to_a_bad_sys_id_send_nothing(emulator: Emulator, gateway: ServiceNowGateway) -> None:
    with pytest.raises(IncidentNotFound):
        await gateway.update_description("not-a-sys-id", "a", "b")
    with pytest.raises(IncidentNotFound):
        await gateway.resolve("0" * 31, "Solution provided", "x", resolved_by="jdoe")
    assert len(emulator.faults.calls) == 0


# ---- the error tree --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ServiceNowUnavailable("x"), True),
        (GatewayClosed("op"), True),
        (ServiceNowRejected("x", status=400), False),
        (IncidentNotFound("0" * 32), False),
        (UnsafeQueryValue("email", "contains '^'"), False),
        (UnexpectedFailure("x"), False),
    ],
)
def test_every_error_is_exactly_one_of_transient_or_permanent(
    error: ServiceNowError, transient: bool
) -> None:
    assert error.transient is transient and error.retryable is transient
    assert isinstance(error, ServiceNowTransient) is transient
    assert isinstance(error, ServiceNowPermanent) is not transient


def _http_error(status: int, headers: dict[str, str] | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(408, ServiceNowUnavailable), (429, ServiceNowUnavailable), (503, ServiceNowUnavailable),
     (400, ServiceNowRejected), (401, ServiceNowRejected), (403, ServiceNowRejected)],
)  # fmt: skip
def test_http_statuses_are_translated_once(status: int, kind: type[ServiceNowError]) -> None:
    error = _translate(_http_error(status, {"Retry-After": "7"}), "op")
    assert type(error) is kind
    if isinstance(error, ServiceNowUnavailable):
        assert error.retry_after == 7.0


def test_an_unknown_failure_is_permanent_and_names_only_its_type() -> None:
    error = _translate(KeyError("Pat Site's SSN"), "op")
    assert isinstance(error, UnexpectedFailure) and "Pat" not in str(error)


async def test_a_closed_gateway_refuses_at_once_without_retrying(
    emulator: Emulator, make_gateway: Callable[..., ServiceNowGateway]
) -> None:
    gateway = make_gateway()
    await gateway.close()
    with pytest.raises(GatewayClosed) as raised:
        await gateway.get_incident("0" * 32)
    assert raised.value.transient and len(emulator.faults.calls) == 0
