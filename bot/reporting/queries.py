"""Reading what the reports need from the database (read-only; the rules live in ``rotation``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.reporting.alerts import load_alert_rows
from bot.reporting.rotation import (
    ChannelRow,
    EscalationRow,
    InquiryRow,
    RotationData,
    SiteRow,
)
from bot.storage import tables


def _site(row) -> SiteRow:
    return SiteRow(
        station=row.station,
        name=row.name,
        time_zone=row.time_zone,
        week_start=row.week_start,
        go_live_date=row.go_live_date,
        pulled=bool(row.pulled),
    )


def inquiry_row(row) -> InquiryRow:
    return InquiryRow(
        id=row.id,
        station=row.station or "",
        posted_at=row.posted_at,
        go_live_day=row.go_live_day,
        late=bool(row.late),
        has_incident=row.sys_id is not None,
        number=row.number,
        url=row.incident_url,
        state=row.state,
        assignment_group=row.assignment_group,
        assigned_to=row.assigned_to,
        first_response_at=row.first_response_at,
        first_response_by=row.first_response_by,
        re_routes=row.re_routes or 0,
        resolved_at=row.resolved_at,
        triage=row.triage,
        assigned_to_name=row.assigned_to_name,
    )


INQUIRY_COLUMNS = (
    tables.inquiries.c.id,
    tables.inquiries.c.station,
    tables.inquiries.c.posted_at,
    tables.inquiries.c.go_live_day,
    tables.inquiries.c.late,
    tables.inquiries.c.sys_id,
    tables.inquiries.c.number,
    tables.inquiries.c.incident_url,
    tables.inquiries.c.state,
    tables.inquiries.c.assignment_group,
    tables.inquiries.c.assigned_to,
    tables.inquiries.c.first_response_at,
    tables.inquiries.c.first_response_by,
    tables.inquiries.c.re_routes,
    tables.inquiries.c.resolved_at,
    tables.inquiries.c.triage,
    tables.inquiries.c.assigned_to_name,
)


async def load_rotation_data(connection: AsyncConnection, week: date) -> RotationData:
    sites_t, inquiries_t = tables.sites, tables.inquiries
    next_week = week + timedelta(days=7)
    site_rows = (
        await connection.execute(select(sites_t).where(sites_t.c.week_start.in_([week, next_week])))
    ).all()
    sites = tuple(_site(r) for r in site_rows if r.week_start == week)
    upcoming = tuple(_site(r) for r in site_rows if r.week_start == next_week)
    stations = [s.station for s in sites]
    week_start = datetime.combine(week, time(0), UTC)
    alerts = await load_alert_rows(connection, week_start, week_start + timedelta(days=7))
    if not stations:
        return RotationData(week=week, sites=(), channels={}, inquiries=(), next_week=upcoming, alerts=alerts)
    channel_rows = (
        await connection.execute(select(tables.channels).where(tables.channels.c.station.in_(stations)))
    ).all()
    inquiry_rows = (
        await connection.execute(
            select(*INQUIRY_COLUMNS)
            .where(inquiries_t.c.station.in_(stations), inquiries_t.c.deleted.is_(False))
            .order_by(inquiries_t.c.id)
        )
    ).all()
    ids = [r.id for r in inquiry_rows]
    route_counts: dict[int, int] = {}
    escalations: tuple[EscalationRow, ...] = ()
    if ids:
        route_counts = {
            inquiry_id: count
            for inquiry_id, count in (
                await connection.execute(
                    select(tables.route_events.c.inquiry_id, func.count())
                    .where(tables.route_events.c.inquiry_id.in_(ids))
                    .group_by(tables.route_events.c.inquiry_id)
                )
            ).all()
        }
        escalations = tuple(
            EscalationRow(r.inquiry_id, r.level, r.notified)
            for r in (
                await connection.execute(
                    select(tables.escalations).where(tables.escalations.c.inquiry_id.in_(ids))
                )
            ).all()
        )
    return RotationData(
        week=week,
        sites=sites,
        channels={
            r.station: ChannelRow(r.station, r.status, r.opened_at, r.retired_at) for r in channel_rows
        },
        inquiries=tuple(inquiry_row(r) for r in inquiry_rows),
        route_events=route_counts,
        escalations=escalations,
        next_week=upcoming,
        alerts=alerts,
    )
