"""The incident tracker port over ServiceNow: ``servicenow.gateway.ServiceNowGateway`` behind
``bot.ports.IncidentTracker``.

Two things happen here and nowhere else: the gateway's error tree is translated once into the
ports' ``Transient`` (unavailable, throttled: retry, honouring Retry-After) and ``Permanent``
(rejected, not found, a value that cannot be queried safely, a failure the gateway has no
translation for: end the job visibly), by each error's ``transient`` mark; and every call is timed
for ``/metrics`` by operation and outcome.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.ports import IncidentDraft, IncidentRecord, JournalEntry, Permanent, Transient, UserRef
from bot.reporting.metrics import status_of
from servicenow.errors import (
    IncidentNotFound,
    ServiceNowError,
    ServiceNowRejected,
    ServiceNowUnavailable,
    UnsafeQueryValue,
)
from servicenow.gateway import ServiceNowGateway

T = TypeVar("T")
Observe = Callable[[str, str, float], None]

NOT_CONFIGURED = "GOLIVE_SERVICENOW_URL is not set"


def _no_observer(op: str, status: str, seconds: float) -> None:
    return None


def translate(error: Exception) -> Exception:
    """The gateway's errors as the ports', by their ``transient`` mark (anything that is not a
    ServiceNow error, a bug, passes through unchanged)."""
    if not isinstance(error, ServiceNowError):
        return error
    if error.transient:
        retry_after = error.retry_after if isinstance(error, ServiceNowUnavailable) else None
        return Transient(f"ServiceNow unavailable: {type(error).__name__}", retry_after)
    if isinstance(error, IncidentNotFound):
        return Permanent("incident not found in ServiceNow")
    if isinstance(error, ServiceNowRejected):
        return Permanent(f"ServiceNow rejected the request (status {error.status})")
    if isinstance(error, UnsafeQueryValue):
        return Permanent("a value cannot be used in a ServiceNow query safely")
    return Permanent(f"ServiceNow call failed: {type(error).__name__}")


class ServiceNowTracker:
    """``IncidentTracker`` over the gateway; without a gateway (no URL configured) every call is a
    ``Transient`` error, so inquiries are kept and their jobs wait until the setting is given."""

    def __init__(self, gateway: ServiceNowGateway | None, observe: Observe = _no_observer) -> None:
        self._gateway = gateway
        self._observe = observe

    async def close(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()

    async def _call(self, op: str, work: Callable[[ServiceNowGateway], Awaitable[T]]) -> T:
        if self._gateway is None:
            raise Transient(NOT_CONFIGURED, retry_after=60.0)
        started = time.perf_counter()
        try:
            result = await work(self._gateway)
        except Exception as error:
            self._observe(op, status_of(error), time.perf_counter() - started)
            raise translate(error) from None
        self._observe(op, "ok", time.perf_counter() - started)
        return result

    async def create_incident(self, draft: IncidentDraft, *, known_new: bool = False) -> IncidentRecord:
        return await self._call("create_incident", lambda g: g.create_incident(draft, known_new=known_new))

    async def find_by_correlation_id(self, correlation_id: str) -> IncidentRecord | None:
        return await self._call("find_by_correlation_id", lambda g: g.find_by_correlation_id(correlation_id))

    async def get_incident(self, sys_id: str) -> IncidentRecord:
        return await self._call("get_incident", lambda g: g.get_incident(sys_id))

    async def add_comment(self, sys_id: str, text: str) -> None:
        await self._call("add_comment", lambda g: g.add_comment(sys_id, text))

    async def add_work_note(self, sys_id: str, text: str) -> None:
        await self._call("add_work_note", lambda g: g.add_work_note(sys_id, text))

    async def set_assignment_group(
        self, sys_id: str, group_name: str, *, actor: str | None = None
    ) -> IncidentRecord:
        return await self._call(
            "set_assignment_group", lambda g: g.set_assignment_group(sys_id, group_name, actor=actor)
        )

    async def assign_to(
        self, sys_id: str, user_name: str | None, *, actor: str | None = None
    ) -> IncidentRecord:
        return await self._call("assign_to", lambda g: g.assign_to(sys_id, user_name, actor=actor))

    async def set_state(
        self, sys_id: str, state: int, hold_reason: str = "", *, actor: str | None = None
    ) -> IncidentRecord:
        return await self._call("set_state", lambda g: g.set_state(sys_id, state, hold_reason, actor=actor))

    async def resolve(
        self, sys_id: str, close_code: str, close_notes: str, *, resolved_by: str | None = None
    ) -> IncidentRecord:
        return await self._call(
            "resolve", lambda g: g.resolve(sys_id, close_code, close_notes, resolved_by=resolved_by)
        )

    async def update_description(
        self, sys_id: str, short_description: str, description: str
    ) -> IncidentRecord:
        return await self._call(
            "update_description", lambda g: g.update_description(sys_id, short_description, description)
        )

    async def find_user(self, email: str | None = None, user_name: str | None = None) -> UserRef | None:
        return await self._call("find_user", lambda g: g.find_user(email=email, user_name=user_name))

    async def incidents_updated_since(
        self, since: datetime, correlation_display: str
    ) -> list[IncidentRecord]:
        return await self._call(
            "incidents_updated_since", lambda g: g.incidents_updated_since(since, correlation_display)
        )

    async def journal_since(self, incident_sys_ids: Sequence[str], since: datetime) -> list[JournalEntry]:
        return await self._call("journal_since", lambda g: g.journal_since(incident_sys_ids, since))
