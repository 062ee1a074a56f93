"""``GET /dashboard``: the read-only rollout dashboard (also the Teams static tab).

Server-rendered HTML (Jinja2) with inline SVG charts: no script, no CDN, so it renders the same in a
browser, in the Teams tab iframe and in a screenshot. ``GET /dashboard/data.json`` serves the same
figures as JSON. In production both need ``Authorization: Bearer <GOLIVE_DASHBOARD_TOKEN>`` or
``?token=`` (401 otherwise, and always when no token is configured); development mode is open.

Framing: the page sends ``Content-Security-Policy: frame-ancestors 'self'`` plus the Teams origins and
no ``X-Frame-Options``, so Teams can show it as a tab and nobody else can frame it.
"""

from __future__ import annotations

import hmac
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy import select

from bot.bridge import records
from bot.bridge.deadletters import DeadLetters
from bot.bridge.roster_sync import ROSTER_SYNC_DOCUMENT, SyncStatus
from bot.clock import Clock, SystemClock
from bot.reporting.rotation import format_duration
from bot.storage import tables
from bot.storage.store import Store
from schedule.plan import WindowSettings, window_for
from schedule.roster import duty_at, is_working
from servicenow.model import RESOLVED_STATES

FRAME_ANCESTORS = (
    "'self' https://teams.microsoft.com https://*.teams.microsoft.com "
    "https://teams.cloud.microsoft https://*.teams.cloud.microsoft"
)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"base-uri 'none'; form-action 'none'; frame-ancestors {FRAME_ANCESTORS}"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: First-response buckets (upper bounds in seconds) of the distribution chart.
RESPONSE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("≤ 1 min", 60),
    ("1–5 min", 300),
    ("5–15 min", 900),
    ("15–60 min", 3600),
    ("> 1 h", float("inf")),
)
NO_RESPONSE = "no response"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.reporting", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineSite:
    station: str
    name: str
    week_start: str
    go_live_date: str
    opens_at: datetime
    retires_at: datetime
    status: str
    open_incidents: int
    inquiries: int


@dataclass(frozen=True)
class DutyLine:
    role: str
    name: str
    time_zone: str
    hours: str
    working_now: bool


@dataclass(frozen=True)
class OpenIncidentLink:
    number: str
    url: str


@dataclass(frozen=True)
class SiteOpenIncidents:
    station: str
    name: str
    channel_status: str
    open_incidents: int
    incidents: tuple[OpenIncidentLink, ...]


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class RosterSource:
    """Where the roster's duty comes from: CSV imports, or PagerDuty with its last sync."""

    source: str = "CSV import"
    schedules: tuple[str, ...] = ()
    last_sync_at: datetime | None = None
    failing: bool = False
    last_failure_at: datetime | None = None
    last_failure: str = ""

    @classmethod
    def of(cls, status: SyncStatus | None) -> RosterSource:
        if status is None:
            return cls()
        return cls(
            source={"pagerduty": "PagerDuty"}.get(status.source, status.source),
            schedules=status.schedules,
            last_sync_at=status.last_success_at,
            failing=status.failing,
            last_failure_at=status.last_failure_at,
            last_failure=status.last_failure,
        )


@dataclass(frozen=True)
class DashboardData:
    now: datetime
    timeline: tuple[TimelineSite, ...]
    duty: tuple[DutyLine, ...]
    open_by_site: tuple[SiteOpenIncidents, ...]
    inquiries_by_day: tuple[Count, ...]
    first_response: tuple[Count, ...]
    inquiries: int
    open_incidents: int
    channels_open: int
    median_first_response_s: float | None
    inbox_backlog: int = 0
    dead_letters: int = 0
    roster_source: RosterSource = field(default_factory=RosterSource)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def response_bucket(seconds: float | None) -> str:
    if seconds is None:
        return NO_RESPONSE
    return next(label for label, upper in RESPONSE_BUCKETS if seconds <= upper)


async def load_dashboard(store: Store, now: datetime, window: WindowSettings | None = None) -> DashboardData:
    window = window or WindowSettings()
    inquiries_t = tables.inquiries
    async with store.read() as connection:
        plan = await records.load_plan(connection)
        roster = await records.load_roster(store, connection)
        roster_sync = SyncStatus.from_document(await store.get_document(connection, ROSTER_SYNC_DOCUMENT))
        channel_status = {
            row.station: row.status
            for row in (await connection.execute(select(tables.channels.c.station, tables.channels.c.status)))
        }
        rows = (
            await connection.execute(
                select(
                    inquiries_t.c.station,
                    inquiries_t.c.posted_at,
                    inquiries_t.c.go_live_day,
                    inquiries_t.c.state,
                    inquiries_t.c.number,
                    inquiries_t.c.incident_url,
                    inquiries_t.c.first_response_at,
                )
                .where(inquiries_t.c.deleted.is_(False))
                .order_by(inquiries_t.c.posted_at)
            )
        ).all()

    inbox_backlog, dead_letters = await DeadLetters(store, SystemClock()).counts()
    inquiries_by_station = Counter(row.station for row in rows)
    open_rows: dict[str, list] = defaultdict(list)
    for row in rows:
        if row.state not in RESOLVED_STATES:
            open_rows[row.station].append(row)

    timeline = []
    for entry in plan.entries:
        span = window_for(entry, window)
        status = "pulled" if entry.pulled else channel_status.get(entry.station, "planned")
        timeline.append(
            TimelineSite(
                station=entry.station,
                name=entry.name,
                week_start=entry.week_start.isoformat(),
                go_live_date=entry.go_live_date.isoformat(),
                opens_at=span.opens_at,
                retires_at=span.retires_at,
                status=status,
                open_incidents=len(open_rows.get(entry.station, ())),
                inquiries=inquiries_by_station.get(entry.station, 0),
            )
        )

    names = {entry.station: entry.name for entry in plan.entries}
    open_by_site = sorted(
        (
            SiteOpenIncidents(
                station=station or "?",
                name=names.get(station or "", ""),
                channel_status=channel_status.get(station or "", "planned"),
                open_incidents=len(items),
                incidents=tuple(OpenIncidentLink(r.number or "pending", r.incident_url or "") for r in items),
            )
            for station, items in open_rows.items()
        ),
        key=lambda s: (-s.open_incidents, s.station),
    )

    days = Counter(row.go_live_day for row in rows if row.go_live_day is not None)
    day_numbers = sorted(set(range(1, window.window_days + 1)) | set(days))
    times = [
        max(0.0, (row.first_response_at - row.posted_at).total_seconds())
        for row in rows
        if row.first_response_at is not None
    ]
    buckets = Counter(
        response_bucket(
            None
            if row.first_response_at is None
            else max(0.0, (row.first_response_at - row.posted_at).total_seconds())
        )
        for row in rows
    )
    return DashboardData(
        now=now,
        timeline=tuple(timeline),
        duty=_duty_lines(roster, now),
        open_by_site=tuple(open_by_site),
        inquiries_by_day=tuple(Count(f"Day {day}", days.get(day, 0)) for day in day_numbers),
        first_response=tuple(
            Count(label, buckets.get(label, 0)) for label in [*(b[0] for b in RESPONSE_BUCKETS), NO_RESPONSE]
        ),
        inquiries=len(rows),
        open_incidents=sum(len(items) for items in open_rows.values()),
        channels_open=sum(1 for status in channel_status.values() if status == "open"),
        median_first_response_s=round(statistics.median(times), 1) if times else None,
        inbox_backlog=inbox_backlog,
        dead_letters=dead_letters,
        roster_source=RosterSource.of(roster_sync),
    )


def _duty_lines(roster, now: datetime) -> tuple[DutyLine, ...]:
    if roster is None:
        return ()
    duty = duty_at(roster, now)
    people = [("primary", duty.primary), ("backup", duty.backup), ("fallback", duty.fallback)]
    people += [("observer", observer) for observer in duty.observers]
    return tuple(
        DutyLine(
            role=role,
            name=engineer.name,
            time_zone=engineer.time_zone,
            hours=f"{engineer.work_start:%H:%M}–{engineer.work_end:%H:%M}",
            working_now=is_working(engineer, now),
        )
        for role, engineer in people
        if engineer is not None
    )


# --------------------------------------------------------------------------------------------------
# Charts: plain geometry for the template's inline SVG
# --------------------------------------------------------------------------------------------------

TIMELINE_WIDTH = 1000
TIMELINE_LABEL = 135
WEEK_ROW = 30


def timeline_chart(sites: Sequence[TimelineSite], now: datetime) -> dict[str, Any] | None:
    """One row per rollout week; inside it one thin bar per site from opening to retirement."""
    if not sites:
        return None
    start = min(s.opens_at for s in sites).replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(s.retires_at for s in sites) + timedelta(days=1)
    span = (end - start).total_seconds()
    plot = TIMELINE_WIDTH - TIMELINE_LABEL - 10

    def x(at: datetime) -> float:
        return round(TIMELINE_LABEL + plot * (at - start).total_seconds() / span, 1)

    weeks: dict[str, list[TimelineSite]] = defaultdict(list)
    for site in sites:
        weeks[site.week_start].append(site)
    rows, bars = [], []
    top = 24
    for index, (week, members) in enumerate(sorted(weeks.items())):
        y0 = top + index * WEEK_ROW
        rows.append({"y": y0, "label": f"week of {week}", "shade": index % 2 == 0})
        height = max(1.5, min(4.0, (WEEK_ROW - 6) / len(members)))
        for n, site in enumerate(sorted(members, key=lambda s: (s.go_live_date, s.station))):
            bars.append(
                {
                    "x": x(site.opens_at),
                    "y": round(y0 + 3 + n * height, 1),
                    "w": max(2.0, round(x(site.retires_at) - x(site.opens_at), 1)),
                    "h": round(height * 0.8, 1),
                    "status": site.status,
                    "title": f"{site.station} {site.name}: {site.go_live_date}, channel {site.status}, "
                    f"{site.inquiries} inquiries, {site.open_incidents} open",
                }
            )
    height = top + len(rows) * WEEK_ROW + 6
    ticks = []
    month = date(start.year, start.month, 1)
    while True:
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        at = datetime(month.year, month.month, 1, tzinfo=start.tzinfo)
        if at >= end:
            break
        if x(at) < TIMELINE_WIDTH - 60:  # no label cut off at the right edge
            ticks.append({"x": x(at), "label": f"{at:%b %Y}"})
    now_x = x(now) if start <= now <= end else None
    return {
        "width": TIMELINE_WIDTH,
        "height": height,
        "rows": rows,
        "bars": bars,
        "ticks": ticks,
        "now_x": now_x,
        "label_width": TIMELINE_LABEL,
    }


def bar_chart(items: Sequence[Count], width: int = 460, height: int = 200, marker: int | None = None):
    """Vertical bars with their counts on top; ``marker`` highlights bars after that index."""
    left, bottom, top = 30, 30, 18
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(1, len(items))
    peak = max((item.count for item in items), default=0) or 1
    bars = []
    for index, item in enumerate(items):
        h = round(plot_h * item.count / peak, 1)
        bars.append(
            {
                "x": round(left + index * slot + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "y": round(top + plot_h - h, 1),
                "h": h,
                "cx": round(left + index * slot + slot / 2, 1),
                "label": item.label,
                "count": item.count,
                "late": marker is not None and index > marker,
            }
        )
    return {"width": width, "height": height, "bars": bars, "base_y": top + plot_h, "left": left}


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardAccess:
    """Who may read the dashboard: anyone in development, else the bearer of ``token``."""

    development: bool
    token: str = field(default="", repr=False)


def authorized(request: web.Request, access: DashboardAccess) -> bool:
    if access.development:
        return True
    expected = access.token
    if not expected:
        return False
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("token", "")
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _unauthorized() -> web.Response:
    return web.Response(
        status=401,
        text="401: the dashboard needs a bearer token (Authorization header or ?token=)\n",
        headers={**SECURITY_HEADERS, "WWW-Authenticate": 'Bearer realm="golive-dashboard"'},
    )


def render_dashboard(data: DashboardData, token: str = "", refresh_s: int = 60) -> str:
    return _templates.get_template("dashboard.html.j2").render(
        data=data,
        timeline=timeline_chart(data.timeline, data.now),
        by_day=bar_chart(data.inquiries_by_day),
        responses=bar_chart(data.first_response, marker=1),
        duration=format_duration,
        token=token,
        refresh_s=refresh_s,
        week_sites=_current_sites(data),
    )


def _current_sites(data: DashboardData) -> list[TimelineSite]:
    """Sites whose window is open now or opens within the next 7 days."""
    soon = data.now + timedelta(days=7)
    return [
        s for s in data.timeline if s.status != "pulled" and s.retires_at > data.now and s.opens_at < soon
    ]


def routes(store: Store, clock: Clock, window: WindowSettings, access: DashboardAccess) -> list[web.RouteDef]:
    """``/dashboard`` and ``/dashboard/data.json``."""

    async def page(request: web.Request) -> web.Response:
        if not authorized(request, access):
            return _unauthorized()
        data = await load_dashboard(store, clock.now(), window)
        html = render_dashboard(data, token=request.query.get("token", ""))
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    async def data_json(request: web.Request) -> web.Response:
        if not authorized(request, access):
            return _unauthorized()
        data = await load_dashboard(store, clock.now(), window)
        return web.json_response(data.to_dict(), headers=SECURITY_HEADERS)

    return [web.get("/dashboard", page), web.get("/dashboard/data.json", data_json)]
