"""Value objects of the ServiceNow boundary (pure: no pysnow, no I/O).

pysnow records never leave the gateway; the rest of the product sees only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "CLOSED_STATES",
    "RESOLVED_STATES",
    "STATE_CANCELED",
    "STATE_CLOSED",
    "STATE_IN_PROGRESS",
    "STATE_LABELS",
    "STATE_NEW",
    "STATE_ON_HOLD",
    "STATE_RESOLVED",
    "IncidentDraft",
    "IncidentRecord",
    "JournalEntry",
    "incident_url",
]

STATE_NEW, STATE_IN_PROGRESS, STATE_ON_HOLD, STATE_RESOLVED, STATE_CLOSED, STATE_CANCELED = 1, 2, 3, 6, 7, 8
STATE_LABELS = {1: "New", 2: "In Progress", 3: "On Hold", 6: "Resolved", 7: "Closed", 8: "Canceled"}
# Resolved or after: the incident no longer waits for anyone. Closed or canceled: it is finished.
RESOLVED_STATES = frozenset({STATE_RESOLVED, STATE_CLOSED, STATE_CANCELED})
CLOSED_STATES = frozenset({STATE_CLOSED, STATE_CANCELED})


@dataclass(frozen=True)
class IncidentDraft:
    correlation_id: str
    short_description: str
    description: str
    caller_name: str
    caller_aad_id: str
    assignment_group: str
    category: str = "inquiry"
    contact_type: str = "chat"
    correlation_display: str = "eCheck-in Go Live"
    impact: int = 3
    urgency: int = 3
    assigned_to: str | None = None
    comments: str | None = None

    def __repr__(self) -> str:  # the text fields may hold personal data
        return f"IncidentDraft(correlation_id={self.correlation_id!r}, group={self.assignment_group!r})"


@dataclass(frozen=True)
class IncidentRecord:
    sys_id: str
    number: str
    state: int
    state_label: str
    assignment_group: str
    assigned_to: str | None
    short_description: str = field(repr=False)
    correlation_id: str
    sys_mod_count: int
    updated_at: datetime
    close_code: str
    close_notes: str = field(repr=False)
    hold_reason: str
    url: str
    assigned_to_name: str = ""
    assignment_group_sys_id: str = ""
    correlation_display: str = ""
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class JournalEntry:
    sys_id: str
    incident_sys_id: str
    element: Literal["comments", "work_notes"]
    value: str = field(repr=False)
    created_by: str
    created_at: datetime


def incident_url(base_url: str, sys_id: str) -> str:
    """The instance link of an incident form (the emulator serves the same path)."""
    return f"{base_url.rstrip('/')}/nav_to.do?uri=incident.do?sys_id={sys_id}"
