"""Incident actions shared by card buttons and thread commands: acknowledge, route, assign, triage,
resolve, and setting the site of an inquiry its channel did not tell. Each records the decision at once (the first response, the re-route for the report) and
queues the ServiceNow call; the job that makes the call shows the card from what ServiceNow answers,
so no card is ever rendered from a change ServiceNow has not made yet. Triage lives only here, so it
refreshes the card itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge import jobkinds as kinds
from bot.bridge import records
from bot.bridge.outbox import enqueue
from bot.bridge.people import actor_label
from bot.commands import CLOSE_CODES, parse_group
from bot.ports import Person
from bot.storage import tables
from bot.storage.store import Store
from schedule.plan import WindowSettings, go_live_day
from servicenow.routing import TRIAGE_CATEGORIES, triage_category


@dataclass(frozen=True)
class ActionResult:
    status: int
    message: str
    changed: bool = False


class UnknownAction(Exception):
    pass


async def apply_action(
    store: Store,
    connection: AsyncConnection,
    inquiry: Any,
    verb: str,
    data: dict[str, Any],
    actor: Person,
    *,
    actor_servicenow_user: str | None,
    groups: tuple[str, str],
    at: datetime,
    source: str,
    where: str = "Teams",
    window: WindowSettings | None = None,
) -> ActionResult:
    """Apply one action to an inquiry's incident inside the caller's transaction; audited with the
    actor's id and name."""
    result = await _apply(
        store,
        connection,
        inquiry,
        verb,
        data,
        actor,
        actor_servicenow_user=actor_servicenow_user,
        groups=groups,
        at=at,
        source=source,
        where=where,
        window=window,
    )
    incident = inquiry.number or inquiry.correlation_id
    if result.changed:
        await records.audit(
            connection, at, actor_label(actor), f"incident.{verb}", f"{incident}: {result.message}"
        )
    elif result.status in (401, 403):
        await records.audit(
            connection, at, actor_label(actor), "action.refused", f"{verb} on {incident}: {result.message}"
        )
    return result


async def _apply(
    store: Store,
    connection: AsyncConnection,
    inquiry: Any,
    verb: str,
    data: dict[str, Any],
    actor: Person,
    *,
    actor_servicenow_user: str | None,
    groups: tuple[str, str],
    at: datetime,
    source: str,
    where: str,
    window: WindowSettings | None = None,
) -> ActionResult:
    inquiries = tables.inquiries
    this_inquiry = inquiries.c.id == inquiry.id
    if verb == "acknowledge":
        if inquiry.first_response_at is None:
            await connection.execute(
                update(inquiries)
                .where(this_inquiry, inquiries.c.first_response_at.is_(None))
                .values(
                    first_response_at=at, first_response_by=actor.name, first_response_source="acknowledge"
                )
            )
        await enqueue(
            store,
            connection,
            kinds.ACKNOWLEDGE,
            kinds.Acknowledgement(actor.name, where, actor_servicenow_user or ""),
            inquiry_id=inquiry.id,
        )
        return ActionResult(200, f"Acknowledged by {actor.name}.", True)
    if verb == "route":
        group = parse_group(str(data.get("group", "")), groups)
        if group is None:
            return ActionResult(400, f"Unknown group. Choose {groups[0]} or {groups[1]}.")
        if group == inquiry.assignment_group:
            return ActionResult(200, f"The incident is already with {group}.")
        # The group is kept at once so the change feed does not report our own move back to us; the
        # assignee stays whatever ServiceNow says (an instance may keep or clear it).
        await connection.execute(
            update(inquiries)
            .where(this_inquiry)
            .values(assignment_group=group, re_routes=inquiries.c.re_routes + 1)
        )
        await connection.execute(
            tables.route_events.insert().values(
                inquiry_id=inquiry.id,
                at=at,
                from_group=inquiry.assignment_group,
                to_group=group,
                source=source,
                actor=actor.name,
            )
        )
        await enqueue(
            store,
            connection,
            kinds.SET_GROUP,
            kinds.GroupChange(group, actor.name, where, actor_servicenow_user or ""),
            inquiry_id=inquiry.id,
        )
        return ActionResult(200, f"Routed to {group} by {actor.name}.", True)
    if verb == "assign_me":
        if not actor_servicenow_user:
            return ActionResult(403, "Only engineers on the duty roster can take incidents.")
        await connection.execute(
            update(inquiries)
            .where(this_inquiry)
            .values(assigned_to=actor_servicenow_user, assigned_to_name=actor.name)
        )
        await enqueue(
            store,
            connection,
            kinds.ASSIGN,
            kinds.Assignment(actor_servicenow_user, actor.name, where),
            inquiry_id=inquiry.id,
        )
        return ActionResult(200, f"Assigned to {actor.name}.", True)
    if verb == "triage":
        category = triage_category(str(data.get("category") or data.get("triage") or ""))
        if category is None:
            labels = ", ".join(c.label for c in TRIAGE_CATEGORIES)
            return ActionResult(400, f"Unknown triage category. Choose one of: {labels}")
        await connection.execute(update(inquiries).where(this_inquiry).values(triage=category.label))
        who = f"{actor.name} ({actor_servicenow_user})" if actor_servicenow_user else actor.name
        await enqueue(
            store,
            connection,
            kinds.WORK_NOTE,
            kinds.Note(f"Triage: {category.label} (by {who} in {where}). Guide: {category.guidance}"),
            inquiry_id=inquiry.id,
        )
        await enqueue(store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=inquiry.id)
        return ActionResult(200, f"Triage recorded: {category.label}. {category.guidance}", True)
    if verb == "resolve":
        code = str(data.get("close_code") or data.get("code") or "").strip()
        notes = str(data.get("close_notes") or data.get("notes") or "").strip()
        match = next((c for c in CLOSE_CODES if c.lower() == code.lower()), None)
        if match is None:
            return ActionResult(400, "Choose a close code: " + ", ".join(CLOSE_CODES))
        if not notes:
            return ActionResult(400, "Resolution notes are required to resolve an incident.")
        await enqueue(
            store,
            connection,
            kinds.RESOLVE,
            kinds.Resolution(match, notes, actor.name, where, actor_servicenow_user or ""),
            inquiry_id=inquiry.id,
        )
        return ActionResult(200, f"Resolving with '{match}'.", True)
    if verb == "set_site":
        return await _set_site(store, connection, inquiry, data, actor, at=at, where=where, window=window)
    raise UnknownAction(verb)


async def _set_site(
    store: Store,
    connection: AsyncConnection,
    inquiry: Any,
    data: dict[str, Any],
    actor: Person,
    *,
    at: datetime,
    where: str,
    window: WindowSettings | None,
) -> ActionResult:
    """Record the site of an inquiry its channel did not tell (the site picker); a work note says so."""
    station = str(data.get("station") or "").strip().upper()
    site = await records.planned_site(connection, station) if station else None
    if site is None or site.pulled:
        return ActionResult(400, "Choose one of the sites in the rollout plan.")
    if station == inquiry.station:
        return ActionResult(200, f"The site is already {station} {site.site.name}.")
    await connection.execute(
        update(tables.inquiries)
        .where(tables.inquiries.c.id == inquiry.id)
        .values(
            station=station,
            site_name=site.site.name,
            go_live_day=go_live_day(site, window, inquiry.posted_at),
        )
    )
    label = f"{station} {site.site.name}"
    await enqueue(
        store,
        connection,
        kinds.WORK_NOTE,
        kinds.Note(f"Site set to {label} by {actor.name} in {where}."),
        inquiry_id=inquiry.id,
    )
    await enqueue(store, connection, kinds.UPDATE_CARD, kinds.Nothing(), inquiry_id=inquiry.id)
    return ActionResult(200, f"Site set to {label}.", True)
