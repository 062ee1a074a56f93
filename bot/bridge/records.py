"""Reading and writing the plan, roster and inquiries (queries shared by the use cases)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bridge.sites import open_sites
from bot.storage import tables
from bot.storage.store import Store
from bot.views import SiteChoice
from schedule.plan import PlannedSite, RolloutPlan, Site, WindowSettings
from schedule.reconciler import ChannelState
from schedule.roster import DutyRoster, parse_roster_csv

ROSTER_DOCUMENT = "roster"


async def first_sight(store: Store, connection: AsyncConnection, key: str, kind: str, at: datetime) -> bool:
    """Record that an event was handled (inside the caller's transaction); False when it already
    was, so a redelivered activity, invoke or callback changes nothing twice."""
    return await store.insert_if_absent(
        connection, tables.inbox, {"dedupe_key": key[:400], "kind": kind, "received_at": at}, ["dedupe_key"]
    )


async def load_plan(connection: AsyncConnection, include_pulled: bool = True) -> RolloutPlan:
    rows = (await connection.execute(select(tables.sites).order_by(tables.sites.c.week_start))).all()
    entries = tuple(
        PlannedSite(
            site=Site(station=row.station, name=row.name, time_zone=row.time_zone),
            week_start=row.week_start,
            go_live_date=row.go_live_date,
            pulled=bool(row.pulled),
        )
        for row in rows
        if include_pulled or not row.pulled
    )
    return RolloutPlan(entries=entries)


async def save_plan(connection: AsyncConnection, plan: RolloutPlan, at: datetime) -> None:
    """Replace the stored plan with ``plan`` (sites absent from it are marked pulled, never deleted,
    so their channels can be cancelled)."""
    existing = {row.station for row in (await connection.execute(select(tables.sites.c.station))).all()}
    seen = set()
    for entry in plan.entries:
        values = {
            "name": entry.site.name,
            "time_zone": entry.site.time_zone,
            "week_start": entry.week_start,
            "go_live_date": entry.go_live_date,
            "pulled": entry.pulled,
            "updated_at": at,
        }
        seen.add(entry.site.station)
        if entry.site.station in existing:
            await connection.execute(
                update(tables.sites).where(tables.sites.c.station == entry.site.station).values(**values)
            )
        else:
            await connection.execute(tables.sites.insert().values(station=entry.site.station, **values))
    for station in existing - seen:
        await connection.execute(
            update(tables.sites).where(tables.sites.c.station == station).values(pulled=True, updated_at=at)
        )


async def load_channel_states(connection: AsyncConnection) -> dict[str, ChannelState]:
    """Every go-live channel's stored state, by station."""
    rows = (await connection.execute(select(tables.channels))).all()
    return {
        row.station: ChannelState(
            station=row.station, status=row.status, channel_id=row.channel_id, display_name=row.display_name
        )
        for row in rows
    }


async def load_roster_csv(store: Store, connection: AsyncConnection) -> str | None:
    document = await store.get_document(connection, ROSTER_DOCUMENT)
    return None if document is None else document.get("csv")


@lru_cache(maxsize=4)
def parsed_roster(text: str) -> DutyRoster:
    """The roster of a stored roster CSV. A pure function of the text: parsed once per roster
    version, not once per post."""
    return parse_roster_csv(text)


async def load_roster(store: Store, connection: AsyncConnection) -> DutyRoster | None:
    text = await load_roster_csv(store, connection)
    return None if text is None else parsed_roster(text)


def engineer_names(roster: DutyRoster | None) -> dict[str, str]:
    """Engineers' display names by their ServiceNow user name."""
    if roster is None:
        return {}
    return {e.servicenow_user: e.name for e in roster.engineers.values()}


async def planned_site(connection: AsyncConnection, station: str) -> PlannedSite | None:
    row = (await connection.execute(select(tables.sites).where(tables.sites.c.station == station))).first()
    if row is None:
        return None
    return PlannedSite(
        site=Site(station=row.station, name=row.name, time_zone=row.time_zone),
        week_start=row.week_start,
        go_live_date=row.go_live_date,
        pulled=bool(row.pulled),
    )


async def site_choices(
    connection: AsyncConnection, window: WindowSettings, at: datetime
) -> tuple[SiteChoice, ...]:
    """The open sites at ``at``, for the site picker of an inquiry whose site is not known."""
    plan = await load_plan(connection, include_pulled=False)
    return tuple(SiteChoice(entry.station, entry.name) for entry in open_sites(plan, window, at))


async def save_roster_csv(store: Store, connection: AsyncConnection, text: str, at: datetime) -> None:
    await store.put_document(connection, ROSTER_DOCUMENT, {"csv": text}, at)


async def inquiry_by_thread(connection: AsyncConnection, conversation_id: str) -> Row[Any] | None:
    return (
        await connection.execute(
            select(tables.inquiries).where(tables.inquiries.c.conversation_id == conversation_id)
        )
    ).first()


async def inquiry_by_id(connection: AsyncConnection, inquiry_id: int) -> Row[Any] | None:
    return (
        await connection.execute(select(tables.inquiries).where(tables.inquiries.c.id == inquiry_id))
    ).first()


async def inquiry_by_key(connection: AsyncConnection, key: str) -> Row[Any] | None:
    return (
        await connection.execute(select(tables.inquiries).where(tables.inquiries.c.correlation_id == key))
    ).first()


async def channel_by_id(connection: AsyncConnection, channel_id: str) -> Row[Any] | None:
    return (
        await connection.execute(select(tables.channels).where(tables.channels.c.channel_id == channel_id))
    ).first()


async def audit(
    connection: AsyncConnection,
    at: datetime,
    actor: str,
    action: str,
    detail: str,
    stations: Iterable[str] = (),
) -> None:
    """One row of the audit trail (``bot.bridge.audit_trail`` reads it); ``stations`` are the sites
    the row is about, so the trail can be filtered by site."""
    listed = sorted({station.strip().upper() for station in stations if station.strip()})
    await connection.execute(
        tables.audit_log.insert().values(
            at=at,
            actor=actor[:200],
            action=action,
            detail=detail,
            stations=f" {' '.join(listed)} " if listed else None,
        )
    )


async def followup_for(connection: AsyncConnection, correlation_id: str) -> Row[Any] | None:
    """The follow-up issue asked for an incident (its ``followups`` row), if any."""
    return (
        await connection.execute(
            select(tables.followups).where(tables.followups.c.correlation_id == correlation_id)
        )
    ).first()
