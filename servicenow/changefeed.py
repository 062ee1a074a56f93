"""What changed on an incident since we last looked (pure; the poller and the callback share it).

The bridge keeps an :class:`IncidentSnapshot` per linked incident. A poll or a signed callback
yields the current :class:`IncidentRecord`; :func:`diff_incident` turns the pair into the changes
worth showing in Teams. Each change carries the dedup key ``(sys_id, sys_mod_count)``: callbacks
are at-least-once and polls overlap, so a consumer records the keys it has handled.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Literal

from servicenow.model import STATE_LABELS, STATE_ON_HOLD, STATE_RESOLVED, IncidentRecord, JournalEntry

__all__ = [
    "ChangeKind",
    "IncidentChange",
    "IncidentSnapshot",
    "dedup_key",
    "diff_incident",
    "new_public_comments",
]

ChangeKind = Literal["state", "group", "assignee", "resolution_notes"]


@dataclass(frozen=True)
class IncidentSnapshot:
    """The last state of an incident the bridge has seen (what an incident link stores)."""

    sys_id: str
    sys_mod_count: int
    state: int
    assignment_group: str
    assigned_to: str | None
    hold_reason: str = ""
    close_code: str = ""
    close_notes: str = field(default="", repr=False)

    @classmethod
    def of(cls, record: IncidentRecord) -> IncidentSnapshot:
        return cls(
            sys_id=record.sys_id,
            sys_mod_count=record.sys_mod_count,
            state=record.state,
            assignment_group=record.assignment_group,
            assigned_to=record.assigned_to,
            hold_reason=record.hold_reason,
            close_code=record.close_code,
            close_notes=record.close_notes,
        )


@dataclass(frozen=True)
class IncidentChange:
    kind: ChangeKind
    sys_id: str
    number: str
    old: str | None
    new: str | None
    sys_mod_count: int
    hold_reason: str = ""
    close_code: str = ""
    close_notes: str = field(default="", repr=False)

    @property
    def dedup_key(self) -> tuple[str, int]:
        return (self.sys_id, self.sys_mod_count)


def dedup_key(record: IncidentRecord | IncidentSnapshot) -> tuple[str, int]:
    return (record.sys_id, record.sys_mod_count)


def _label(state: int) -> str:
    return STATE_LABELS.get(state, str(state))


def diff_incident(previous: IncidentSnapshot | None, current: IncidentRecord) -> list[IncidentChange]:
    """Changes from ``previous`` to ``current``; none for a first sighting or a stale record."""
    if previous is None or current.sys_mod_count <= previous.sys_mod_count:
        return []
    if previous.sys_id != current.sys_id:
        raise ValueError("snapshot and record are different incidents")

    def change(kind: ChangeKind, old: str | None, new: str | None) -> IncidentChange:
        return IncidentChange(
            kind=kind,
            sys_id=current.sys_id,
            number=current.number,
            old=old,
            new=new,
            sys_mod_count=current.sys_mod_count,
            hold_reason=current.hold_reason,
            close_code=current.close_code,
            close_notes=current.close_notes,
        )

    changes: list[IncidentChange] = []
    state_moved = current.state != previous.state
    hold_moved = current.state == STATE_ON_HOLD and current.hold_reason != previous.hold_reason
    if state_moved or hold_moved:
        changes.append(change("state", _label(previous.state), _label(current.state)))
    elif current.state == STATE_RESOLVED and (
        current.close_notes != previous.close_notes or current.close_code != previous.close_code
    ):
        changes.append(change("resolution_notes", previous.close_notes, current.close_notes))
    if current.assignment_group != previous.assignment_group:
        changes.append(change("group", previous.assignment_group, current.assignment_group))
    if current.assigned_to != previous.assigned_to:
        changes.append(change("assignee", previous.assigned_to, current.assigned_to))
    return changes


def new_public_comments(
    entries: Iterable[JournalEntry], *, integration_user: str, seen: Container[str]
) -> list[JournalEntry]:
    """Public comments written by people (not the bridge itself) whose journal sys_id is unseen.

    Work notes are internal and never leave ServiceNow; the bridge's own comments came from Teams.
    The result keeps the input order and holds each journal sys_id once.
    """
    fresh: list[JournalEntry] = []
    taken: set[str] = set()
    for entry in entries:
        if entry.element != "comments" or entry.created_by == integration_user:
            continue
        if entry.sys_id in seen or entry.sys_id in taken:
            continue
        taken.add(entry.sys_id)
        fresh.append(entry)
    return fresh
