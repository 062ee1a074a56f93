"""Monitoring alerts in the reports: by source, storms, and how fast engineers acknowledged them.

Pure computation over ``AlertRow`` (read by ``load_alert_rows``) so the rotation report and the
dashboard count alerts the same way. An alert's response clock runs from its first delivery to the
Acknowledge on its post; only groups with their own post and storms have one (a storm's groups are
acknowledged through the storm).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import tables


@dataclass(frozen=True)
class AlertRow:
    source: str
    kind: str
    count: int
    state: str
    received_at: datetime
    acknowledged_at: datetime | None
    in_storm: bool
    escalated: bool
    has_incident: bool


@dataclass(frozen=True)
class AlertSourceCount:
    source: str
    groups: int
    alerts: int
    in_storm: int


@dataclass(frozen=True)
class AlertsReport:
    """``alerts`` of the rotation report's JSON."""

    groups: int = 0
    alerts: int = 0
    incidents: int = 0
    storms: int = 0
    by_source: tuple[AlertSourceCount, ...] = ()
    acknowledged: int = 0
    unacknowledged: int = 0
    median_ack_s: float | None = None
    p90_ack_s: float | None = None
    within_5_min: int = 0
    escalated: int = 0
    open: int = 0


async def load_alert_rows(
    connection: AsyncConnection, start: datetime, end: datetime
) -> tuple[AlertRow, ...]:
    """Alert groups and storms first received in ``[start, end)``."""
    alerts = tables.alerts
    rows = (
        await connection.execute(
            select(alerts)
            .where(alerts.c.received_at >= start, alerts.c.received_at < end)
            .order_by(alerts.c.id)
        )
    ).all()
    return tuple(
        AlertRow(
            source=row.source,
            kind=row.kind,
            count=int(row._mapping["count"]),
            state=row.state,
            received_at=row.received_at,
            acknowledged_at=row.acknowledged_at,
            in_storm=row.storm_id is not None,
            escalated=row.escalation_level > 0,
            has_incident=row.sys_id is not None,
        )
        for row in rows
    )


def _nearest_rank(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(len(ordered) * fraction) - 1)], 1)


def alerts_report(rows: tuple[AlertRow, ...], first_response_s: float = 300.0) -> AlertsReport:
    groups = [row for row in rows if row.kind == "group"]
    # What engineers answer: a group's own post, or a storm's.
    posted = [row for row in rows if row.kind == "storm" or not row.in_storm]
    times = [
        max(0.0, (row.acknowledged_at - row.received_at).total_seconds())
        for row in posted
        if row.acknowledged_at is not None
    ]
    by_source = Counter(row.source for row in groups)
    alerts_by_source = Counter[str]()
    storm_by_source = Counter[str]()
    for row in groups:
        alerts_by_source[row.source] += row.count
        storm_by_source[row.source] += row.in_storm
    return AlertsReport(
        groups=len(groups),
        alerts=sum(row.count for row in groups),
        incidents=sum(1 for row in rows if row.has_incident),
        storms=sum(1 for row in rows if row.kind == "storm"),
        by_source=tuple(
            AlertSourceCount(source, by_source[source], alerts_by_source[source], storm_by_source[source])
            for source in sorted(by_source)
        ),
        acknowledged=len(times),
        unacknowledged=len(posted) - len(times),
        median_ack_s=round(statistics.median(times), 1) if times else None,
        p90_ack_s=_nearest_rank(times, 0.9),
        within_5_min=sum(1 for t in times if t <= first_response_s),
        escalated=sum(1 for row in posted if row.escalated),
        open=sum(1 for row in posted if row.state not in ("recovered", "resolved")),
    )


def render_markdown(report: AlertsReport, fmt: Callable[[float | None], str]) -> list[str]:
    """The rotation report's "Monitoring alerts" section (``fmt`` formats a duration)."""
    if not report.groups:
        return ["", "## Monitoring alerts", "", "No monitoring alerts this week."]
    lines = [
        "",
        "## Monitoring alerts",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| Alert groups | {report.groups} |",
        f"| Alerts received | {report.alerts} |",
        f"| Incidents opened | {report.incidents} |",
        f"| Alert storms | {report.storms} |",
        f"| Acknowledged | {report.acknowledged} |",
        f"| Not acknowledged | {report.unacknowledged} |",
        f"| Median time to acknowledge | {fmt(report.median_ack_s)} |",
        f"| 90th percentile time to acknowledge | {fmt(report.p90_ack_s)} |",
        f"| Acknowledged within 5 minutes | {report.within_5_min} |",
        f"| Escalated | {report.escalated} |",
        "",
        "| source | groups | alerts | in a storm |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {s.source} | {s.groups} | {s.alerts} | {s.in_storm} |" for s in report.by_source]
    return lines
