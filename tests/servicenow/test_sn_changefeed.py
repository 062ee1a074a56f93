"""Incident diffs and the public-comment filter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from servicenow.changefeed import IncidentSnapshot, dedup_key, diff_incident, new_public_comments
from servicenow.model import IncidentRecord, JournalEntry

AT = datetime(2022, 5, 3, 15, 0, tzinfo=UTC)
BASE = IncidentRecord(
    sys_id="a" * 32,
    number="INC0010001",
    state=1,
    state_label="New",
    assignment_group="Scheduling Support",
    assigned_to=None,
    short_description="x",
    correlation_id="teams-1",
    sys_mod_count=0,
    updated_at=AT,
    close_code="",
    close_notes="",
    hold_reason="",
    url="http://sn/nav_to.do?uri=incident.do?sys_id=" + "a" * 32,
)


def _next(**changes: object) -> IncidentRecord:
    return replace(BASE, sys_mod_count=BASE.sys_mod_count + 1, **changes)


def test_first_sighting_reports_nothing() -> None:
    assert diff_incident(None, BASE) == []


def test_stale_or_same_record_reports_nothing() -> None:
    snapshot = IncidentSnapshot.of(_next(state=2))
    assert diff_incident(snapshot, BASE) == []
    assert diff_incident(snapshot, _next(state=2)) == []


def test_group_change_is_reported_with_dedup_key() -> None:
    [change] = diff_incident(IncidentSnapshot.of(BASE), _next(assignment_group="eCheck-in Vet Facing Apps"))
    assert (change.kind, change.old, change.new) == (
        "group",
        "Scheduling Support",
        "eCheck-in Vet Facing Apps",
    )
    assert change.dedup_key == ("a" * 32, 1) == dedup_key(_next())


def test_resolution_carries_code_and_notes() -> None:
    current = _next(state=6, close_code="Solution provided", close_notes="Rebooted")
    [change] = diff_incident(IncidentSnapshot.of(BASE), current)
    assert (change.kind, change.old, change.new) == ("state", "New", "Resolved")
    assert (change.close_code, change.close_notes) == ("Solution provided", "Rebooted")


def test_hold_reason_change_while_on_hold_is_a_state_change() -> None:
    held = _next(state=3, hold_reason="1")
    changed = replace(held, sys_mod_count=2, hold_reason="4")
    [change] = diff_incident(IncidentSnapshot.of(held), changed)
    assert change.kind == "state" and change.hold_reason == "4"


def test_notes_edited_after_resolution_are_reported() -> None:
    resolved = _next(state=6, close_code="Solution provided", close_notes="a")
    edited = replace(resolved, sys_mod_count=2, close_notes="b")
    [change] = diff_incident(IncidentSnapshot.of(resolved), edited)
    assert (change.kind, change.old, change.new) == ("resolution_notes", "a", "b")


def test_several_changes_in_one_update() -> None:
    current = _next(state=2, assignment_group="Other", assigned_to="jdoe")
    assert [c.kind for c in diff_incident(IncidentSnapshot.of(BASE), current)] == [
        "state",
        "group",
        "assignee",
    ]


def _entry(sys_id: str, element: str = "comments", by: str = "admin") -> JournalEntry:
    return JournalEntry(sys_id, "a" * 32, element, "text", by, AT)  # type: ignore[arg-type]


def test_public_comments_skip_notes_own_and_seen_entries() -> None:
    entries = [
        _entry("1"),
        _entry("2", element="work_notes"),
        _entry("3", by="golive.integration"),
        _entry("4"),
        _entry("1"),
    ]
    fresh = new_public_comments(entries, integration_user="golive.integration", seen={"4"})
    assert [e.sys_id for e in fresh] == ["1"]
