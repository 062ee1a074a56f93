"""Value objects of the ServiceNow boundary (pure: no pysnow, no I/O).

pysnow records never leave the gateway; the rest of the product sees only these.
"""

from __future__ import annotations

import re
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
    "UserRef",
    "incident_url",
]

STATE_NEW, STATE_IN_PROGRESS, STATE_ON_HOLD, STATE_RESOLVED, STATE_CLOSED, STATE_CANCELED = 1, 2, 3, 6, 7, 8
STATE_LABELS = {1: "New", 2: "In Progress", 3: "On Hold", 6: "Resolved", 7: "Closed", 8: "Canceled"}
# Resolved or after: the incident no longer waits for anyone. Closed or canceled: it is finished.
RESOLVED_STATES = frozenset({STATE_RESOLVED, STATE_CLOSED, STATE_CANCELED})
CLOSED_STATES = frozenset({STATE_CLOSED, STATE_CANCELED})
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")


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
    # The poster's sys_user (see ServiceNowGateway.find_user); None leaves caller_id empty, and the
    # caller is then known only by the name the description carries.
    caller_sys_id: str | None = None

    def __post_init__(self) -> None:
        if self.caller_sys_id is not None and not _SYS_ID.match(self.caller_sys_id):
            raise ValueError("caller_sys_id must be a sys_id (32 lowercase hex characters)")

    def __repr__(self) -> str:  # the text fields may hold personal data
        return f"IncidentDraft(correlation_id={self.correlation_id!r}, group={self.assignment_group!r})"


@dataclass(frozen=True)
class UserRef:
    """A ``sys_user`` the gateway found: what a reference field needs, and what a card shows."""

    sys_id: str
    user_name: str
    name: str = field(repr=False)


@dataclass(frozen=True)
class IncidentRecord:
    """An incident as ServiceNow holds it (every gateway read and write returns one).

    People come as user names (``assigned_to``, ``resolved_by``) for logic and as display names
    (``assigned_to_name``, ``resolved_by_name``, ``caller_name``) for cards; ``assignment_group``
    is the group's name. Text and names stay out of ``repr``.
    """

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
    assigned_to_name: str = field(default="", repr=False)
    assignment_group_sys_id: str = ""
    correlation_display: str = ""
    resolved_at: datetime | None = None
    # The caller's display name (caller_id), else the name the bridge wrote at creation, else "".
    caller_name: str = field(default="", repr=False)
    caller_sys_id: str = ""
    resolved_by: str | None = None  # user name
    resolved_by_name: str = field(default="", repr=False)
    # Fields a write asked for that the instance refused (an error on the field, after which the
    # write went through without it, or a value it silently did not take). Only on records a write
    # returned; not part of the incident's state, so equality ignores it.
    refused_fields: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def refused(self) -> bool:
        """True when the instance did not take every field the write asked for (see refused_fields)."""
        return bool(self.refused_fields)


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
