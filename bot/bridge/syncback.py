"""Sync back from ServiceNow to the Teams thread: state, group and assignee changes and public
comments made in ServiceNow appear in the site's thread once each; work notes never do.

Two feeds share one code path: the poller (incidents updated since a watermark, with an overlap,
deduplicated by ``(sys_id, sys_mod_count)``; journal entries since a watermark, deduplicated by
journal sys_id) and the signed callback (``POST /servicenow/events``), which only says "look at
this incident now" (``bot.web.servicenow_events``). Loops are impossible: the product's own
comments are written by the integration user and skipped, and what comes back is posted to the
thread only, never written back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.jobs import thread_of
from bot.bridge.outbox import enqueue
from bot.bridge.render import resolution_text
from bot.bridge.untrusted import safe_text
from bot.clock import Clock
from bot.ports import IncidentRecord, IncidentTracker, JournalEntry, PortError
from bot.storage import tables
from bot.storage.store import Store
from servicenow.changefeed import IncidentChange, IncidentSnapshot, diff_incident, new_public_comments
from servicenow.model import CLOSED_STATES, STATE_RESOLVED

log = logging.getLogger(__name__)

WATERMARK = "servicenow_sync_watermark"
OVERLAP = timedelta(minutes=2)


def _snapshot(row: Any) -> IncidentSnapshot | None:
    if row.sys_id is None or row.sys_mod_count is None:
        return None
    return IncidentSnapshot(
        sys_id=row.sys_id,
        sys_mod_count=row.sys_mod_count,
        state=row.state or 1,
        assignment_group=row.assignment_group or "",
        assigned_to=row.assigned_to,
        hold_reason=row.hold_reason or "",
        close_code=row.close_code or "",
        close_notes=row.close_notes or "",
    )


# ServiceNow's base choices for incident.hold_reason (the Table API returns the value).
HOLD_REASONS = {
    "1": "Awaiting Caller",
    "3": "Awaiting Problem",
    "4": "Awaiting Vendor",
    "5": "Awaiting Change",
}


def change_text(change: IncidentChange, names: dict[str, str]) -> str:
    """What a change made in ServiceNow says in the thread (ServiceNow's values made safe)."""
    return safe_text(_change_text(change, names))


def _change_text(change: IncidentChange, names: dict[str, str]) -> str:
    number = change.number
    if change.kind == "state":
        if change.new == "On Hold" and change.hold_reason:
            reason = HOLD_REASONS.get(change.hold_reason, change.hold_reason)
            return f"ServiceNow: {number} is On Hold ({reason})."
        if change.new == "Resolved":
            return resolution_text(number, change.close_code, change.close_notes)
        return f"ServiceNow: {number} is now {change.new}."
    if change.kind == "resolution_notes":
        return f"ServiceNow: resolution notes of {number} updated: {change.new}"
    if change.kind == "group":
        return f"ServiceNow: {number} moved from {change.old or 'no group'} to {change.new}."
    assignee = names.get(change.new or "", change.new) if change.new else "nobody"
    return f"ServiceNow: {number} is now assigned to {assignee}."


class SyncBack:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        tracker: IncidentTracker,
        *,
        integration_user: str,
        correlation_display: str,
        wake: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._tracker = tracker
        self._integration_user = integration_user
        self._correlation_display = correlation_display
        self._wake = wake
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_poll_at: datetime | None = None

    def spawn(self, sys_id: str) -> None:
        """Look at an incident after the HTTP answer of a callback, keeping a reference until done."""
        task = asyncio.get_running_loop().create_task(self._apply_event(sys_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply_event(self, sys_id: str) -> None:
        try:
            await self.on_event(sys_id)
        except PortError as error:
            # The poller will pick the change up on its next pass.
            log.info("callback for %s deferred to the poller (%s)", sys_id, type(error).__name__)

    async def _names(self) -> dict[str, str]:
        async with self._store.read() as connection:
            roster = await records.load_roster(self._store, connection)
        return records.engineer_names(roster)

    async def poll(self) -> int:
        """One pass of the change feed; returns how many changes and comments were posted."""
        async with self._lock:
            try:
                return await self._poll()
            except PortError as error:
                log.info("sync poll skipped: ServiceNow unavailable (%s)", type(error).__name__)
                return 0

    async def _poll(self) -> int:
        async with self._store.read() as connection:
            mark = await self._store.get_document(connection, WATERMARK) or {}
        default_since = self._clock.now() - timedelta(days=1)
        since = datetime.fromisoformat(mark["incidents"]) if "incidents" in mark else default_since
        journal_since = datetime.fromisoformat(mark["journal"]) if "journal" in mark else default_since
        incidents = await self._tracker.incidents_updated_since(since - OVERLAP, self._correlation_display)
        names = await self._names()
        posted = 0
        for record in incidents:
            posted += await self.apply_record(record, names)
        open_ids = await self._tracked_sys_ids()
        entries = await self._tracker.journal_since(open_ids, journal_since - OVERLAP) if open_ids else []
        posted += await self.apply_journal(entries, names)
        new_mark = {
            "incidents": max([since, *(r.updated_at for r in incidents)]).isoformat(),
            "journal": max([journal_since, *(e.created_at for e in entries)]).isoformat(),
        }
        async with self._store.write() as connection:
            await self._store.put_document(connection, WATERMARK, new_mark, self._clock.now())
        self.last_poll_at = self._clock.now()
        if posted:
            self._wake()
        return posted

    async def _tracked_sys_ids(self) -> list[str]:
        inquiries = tables.inquiries
        async with self._store.read() as connection:
            rows = (
                await connection.execute(
                    select(inquiries.c.sys_id).where(
                        inquiries.c.sys_id.is_not(None),
                        (inquiries.c.state.is_(None)) | (inquiries.c.state.not_in(CLOSED_STATES)),
                    )
                )
            ).all()
        return [row.sys_id for row in rows]

    async def apply_record(self, record: IncidentRecord, names: dict[str, str] | None = None) -> int:
        names = names if names is not None else await self._names()
        inquiries = tables.inquiries
        async with self._store.write() as connection:
            row = (
                await connection.execute(select(inquiries).where(inquiries.c.sys_id == record.sys_id))
            ).first()
            if row is None:
                return 0
            previous = _snapshot(row)
            if previous is not None and record.sys_mod_count <= previous.sys_mod_count:
                return 0
            changes = diff_incident(previous, record)
            if record.assigned_to and record.assigned_to_name:
                names = {**names, record.assigned_to: record.assigned_to_name}
            values = {
                "state": record.state,
                "state_label": record.state_label,
                "assignment_group": record.assignment_group,
                "assigned_to": record.assigned_to,
                "assigned_to_name": record.assigned_to_name or None,
                "resolved_by_name": record.resolved_by_name or None,
                "sys_mod_count": record.sys_mod_count,
                "hold_reason": record.hold_reason,
                "close_code": record.close_code,
                "close_notes": record.close_notes,
            }
            if record.state == STATE_RESOLVED and row.resolved_at is None:
                values["resolved_at"] = record.resolved_at or record.updated_at
            if any(c.kind == "group" for c in changes):
                values["re_routes"] = inquiries.c.re_routes + 1
                await connection.execute(
                    tables.route_events.insert().values(
                        inquiry_id=row.id,
                        at=record.updated_at,
                        from_group=row.assignment_group,
                        to_group=record.assignment_group,
                        source="servicenow",
                        actor=None,
                    )
                )
            await connection.execute(update(inquiries).where(inquiries.c.id == row.id).values(**values))
            for change in changes:
                await enqueue(
                    self._store,
                    connection,
                    kinds.REPLY,
                    kinds.ThreadReply(thread_of(row), change_text(change, names)),
                    inquiry_id=row.id,
                    dedupe_key=f"sync:{record.sys_id}:{record.sys_mod_count}:{change.kind}",
                )
            if changes:
                await enqueue(self._store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=row.id)
        return len(changes)

    async def apply_journal(self, entries: list[JournalEntry], names: dict[str, str]) -> int:
        posted = 0
        for entry in new_public_comments(entries, integration_user=self._integration_user, seen=()):
            async with self._store.write() as connection:
                first = await self._store.insert_if_absent(
                    connection,
                    tables.journal_seen,
                    {"journal_sys_id": entry.sys_id, "inquiry_id": None, "seen_at": self._clock.now()},
                    ["journal_sys_id"],
                )
                if not first:
                    continue
                row = (
                    await connection.execute(
                        select(tables.inquiries).where(tables.inquiries.c.sys_id == entry.incident_sys_id)
                    )
                ).first()
                if row is None:
                    continue
                author = names.get(entry.created_by, entry.created_by)
                await enqueue(
                    self._store,
                    connection,
                    kinds.REPLY,
                    kinds.ThreadReply(
                        thread_of(row), safe_text(f"{author} commented in ServiceNow:\n{entry.value}")
                    ),
                    inquiry_id=row.id,
                    dedupe_key=f"journal:{entry.sys_id}",
                )
                if row.first_response_at is None:
                    await connection.execute(
                        update(tables.inquiries)
                        .where(
                            tables.inquiries.c.id == row.id, tables.inquiries.c.first_response_at.is_(None)
                        )
                        .values(
                            first_response_at=entry.created_at,
                            first_response_by=author,
                            first_response_source="servicenow_comment",
                        )
                    )
                    await enqueue(
                        self._store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=row.id
                    )
                posted += 1
        return posted

    async def on_event(self, sys_id: str) -> int:
        """A signed callback named this incident: fetch it and its new comments now."""
        async with self._lock:
            record = await self._tracker.get_incident(sys_id)
            names = await self._names()
            posted = await self.apply_record(record, names)
            entries = await self._tracker.journal_since([sys_id], self._clock.now() - timedelta(days=1))
            posted += await self.apply_journal(entries, names)
        if posted:
            self._wake()
        return posted
