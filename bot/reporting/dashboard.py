"""``GET /dashboard``: the read-only rollout dashboard, and ``/dashboard/tab``, the same page as a
Teams tab that signs in through Teams.

Server-rendered HTML (Jinja2) with inline SVG charts: no script, no CDN, so it renders the same in a
browser, in the Teams tab iframe and in a screenshot. ``GET /dashboard/data.json`` serves the same
figures as JSON. In production both need ``Authorization: Bearer <GOLIVE_DASHBOARD_TOKEN>`` or
``?token=``, or a Teams tab sign-in token (below); 401 otherwise. Development mode is open.

The Teams tab (the manifest's static tab) cannot carry a token in its URL. ``GET /dashboard/tab`` is a
small page with no data: it loads the Teams JS SDK (``GOLIVE_TEAMS_JS_URL``; the Teams emulator serves
a stand-in), asks it for the signed-in user's token (``authentication.getAuthToken()``) and posts the
token to ``POST /dashboard/tab/view``, which checks it on the server (signature against the tenant's
keys, audience, issuer, tenant: ``bot.teams.sso``) and answers the dashboard, which the page then
shows. A refused token is a 401 with the reason; keys that cannot be fetched a 503.

First responses are due ``first_response_minutes`` after the first-response clock starts (the post,
or the start of the first engineer's working hours for a post made at night): an unanswered inquiry
is "waiting" until then and "missed" after; answer times are measured from the clock's start.

Framing: the pages send ``Content-Security-Policy: frame-ancestors 'self'`` plus the Teams origins and
no ``X-Frame-Options``, so Teams can show them as a tab and nobody else can frame them.
"""

from __future__ import annotations

import hmac
import logging
import statistics
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from sqlalchemy import select

from bot.bridge import records
from bot.bridge.audit_trail import AuditQuery, read_audit
from bot.bridge.deadletters import DeadLetters
from bot.bridge.roster_sync import ROSTER_SYNC_DOCUMENT, SyncStatus
from bot.clock import Clock, SystemClock
from bot.leadership import LeadershipReport, LeaderStatus
from bot.reporting.alerts import AlertsReport, alerts_report, load_alert_rows
from bot.reporting.rotation import format_duration
from bot.storage import tables
from bot.storage.store import Store
from schedule.first_response import first_response_clock_start
from schedule.plan import WindowSettings, window_for
from schedule.roster import DutyRoster, duty_at, is_working
from servicenow.model import RESOLVED_STATES

log = logging.getLogger(__name__)

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
WAITING = "waiting"
MISSED = "missed"
DEFAULT_FIRST_RESPONSE_S = 300.0
#: How many audit entries the "Changes" panel shows (``golive audit`` has them all).
CHANGES_SHOWN = 15

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
class ChangeLine:
    """One row of the audit trail, as the "Changes" panel shows it."""

    at: datetime
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class AlertLine:
    source: str
    title: str
    state: str
    count: int
    number: str
    url: str
    acknowledged_by: str


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
    changes: tuple[ChangeLine, ...] = ()
    # Monitoring alerts of the last 7 days, and the latest alert posts (groups with their own, storms).
    alerts: AlertsReport = field(default_factory=AlertsReport)
    latest_alerts: tuple[AlertLine, ...] = ()
    #: Which replica leads the schedule, and whether it is the one serving this page.
    leadership: LeadershipReport | None = None
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


def response_bucket(seconds: float | None, *, waiting: bool = False) -> str:
    """The chart bucket of a first response ``seconds`` after the clock started; an unanswered
    inquiry is "waiting" while it is still within its time, else "missed"."""
    if seconds is None:
        return WAITING if waiting else MISSED
    return next(label for label, upper in RESPONSE_BUCKETS if seconds <= upper)


def late_labels(threshold_s: float = DEFAULT_FIRST_RESPONSE_S) -> frozenset[str]:
    """The buckets drawn in red: answered after the threshold, or missed."""
    labels = {label for label, upper in RESPONSE_BUCKETS if _lower_bound(label) >= threshold_s}
    return frozenset(labels | {MISSED})


def _lower_bound(label: str) -> float:
    uppers = [upper for _, upper in RESPONSE_BUCKETS]
    index = [name for name, _ in RESPONSE_BUCKETS].index(label)
    return 0.0 if index == 0 else uppers[index - 1]


def clock_started(roster: DutyRoster | None, posted_at: datetime) -> datetime:
    """When the first-response clock of a post started (see the module docstring)."""
    if roster is None:
        return posted_at
    return first_response_clock_start(duty_at(roster, posted_at), posted_at)


async def load_dashboard(
    store: Store,
    now: datetime,
    window: WindowSettings | None = None,
    first_response_s: float = DEFAULT_FIRST_RESPONSE_S,
) -> DashboardData:
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
        changes = await read_audit(connection, AuditQuery(limit=CHANGES_SHOWN))
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
    alerts, latest_alerts = await _alerts(store, now)
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
    times: list[float] = []
    buckets: Counter[str] = Counter()
    for row in rows:
        started = clock_started(roster, row.posted_at)
        if row.first_response_at is None:
            waiting = now < started + timedelta(seconds=first_response_s)
            buckets[response_bucket(None, waiting=waiting)] += 1
            continue
        seconds = max(0.0, (row.first_response_at - started).total_seconds())
        times.append(seconds)
        buckets[response_bucket(seconds)] += 1
    return DashboardData(
        now=now,
        timeline=tuple(timeline),
        duty=_duty_lines(roster, now),
        open_by_site=tuple(open_by_site),
        inquiries_by_day=tuple(Count(f"Day {day}", days.get(day, 0)) for day in day_numbers),
        first_response=tuple(
            Count(label, buckets.get(label, 0))
            for label in [WAITING, *(b[0] for b in RESPONSE_BUCKETS), MISSED]
        ),
        inquiries=len(rows),
        open_incidents=sum(len(items) for items in open_rows.values()),
        channels_open=sum(1 for status in channel_status.values() if status == "open"),
        median_first_response_s=round(statistics.median(times), 1) if times else None,
        inbox_backlog=inbox_backlog,
        dead_letters=dead_letters,
        changes=tuple(ChangeLine(e.at, e.actor, e.action, e.headline) for e in changes),
        alerts=alerts,
        latest_alerts=latest_alerts,
        roster_source=RosterSource.of(roster_sync),
    )


async def _alerts(store: Store, now: datetime) -> tuple[AlertsReport, tuple[AlertLine, ...]]:
    alerts_t = tables.alerts
    async with store.read() as connection:
        rows = await load_alert_rows(connection, now - timedelta(days=7), now + timedelta(days=1))
        latest = (
            await connection.execute(
                select(alerts_t)
                .where(alerts_t.c.storm_id.is_(None))
                .order_by(alerts_t.c.last_seen.desc(), alerts_t.c.id.desc())
                .limit(10)
            )
        ).all()
    lines = tuple(
        AlertLine(
            row.source,
            row.title,
            row.state,
            row._mapping["count"],
            row.number or "pending",
            row.incident_url or "",
            row.acknowledged_by or "",
        )
        for row in latest
    )
    return alerts_report(rows), lines


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


def bar_chart(
    items: Sequence[Count], width: int = 460, height: int = 200, late: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Vertical bars with their counts on top; bars whose label is in ``late`` are drawn red."""
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
                "late": item.label in late,
            }
        )
    return {"width": width, "height": height, "bars": bars, "base_y": top + plot_h, "left": left}


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


# Checks a tab's sign-in token; raises TabRefused (401 or 503, with the reason) when it is not good.
TabSignIn = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class DashboardAccess:
    """Who may read the dashboard: anyone in development, else the bearer of ``token`` or of a
    Teams tab sign-in token that ``tab_sign_in`` accepts (it raises when it does not).

    ``tab_sign_in`` also checks the tab's token in development when it is configured (the sandbox
    runs the Teams sign-in against the emulator); ``teams_js_url`` is the Teams JS SDK the tab loads.
    """

    development: bool
    token: str = field(default="", repr=False)
    tab_sign_in: TabSignIn | None = None
    teams_js_url: str = "https://res.cdn.office.net/teams-js/2.34.0/js/MicrosoftTeams.min.js"
    first_response_s: float = DEFAULT_FIRST_RESPONSE_S


class TabRefused(Exception):
    """A tab's sign-in token was refused: ``status`` 401 (bad token) or 503 (keys unreadable)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _is_dashboard_token(given: str, access: DashboardAccess) -> bool:
    expected = access.token
    # A header of undecodable bytes arrives with surrogate escapes: compare bytes, never fail.
    return (
        bool(given)
        and bool(expected)
        and hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
        )
    )


async def tab_signed_in(token: str, access: DashboardAccess) -> None:
    """Check a Teams tab sign-in token; :class:`TabRefused` when it is not accepted."""
    if access.tab_sign_in is None:
        raise TabRefused(401, "Teams sign-in is not configured on this server")
    if not token:
        raise TabRefused(401, "no Teams sign-in token was sent")
    try:
        await access.tab_sign_in(token)
    except TabRefused as refused:
        log.info("dashboard tab sign-in refused (%d): %s", refused.status, refused.reason)
        raise


async def authorized(request: web.Request, access: DashboardAccess) -> bool:
    if access.development:
        return True
    given = _bearer(request) or request.query.get("token", "")
    if _is_dashboard_token(given, access):
        return True
    if given.count(".") == 2 and access.tab_sign_in is not None:
        try:
            await tab_signed_in(given, access)
        except TabRefused:
            return False
        return True
    return False


def _unauthorized(
    reason: str = "the dashboard needs a bearer token (Authorization header or ?token=)",
) -> web.Response:
    return web.Response(
        status=401,
        text=f"401: {reason}\n",
        headers={**SECURITY_HEADERS, "WWW-Authenticate": 'Bearer realm="golive-dashboard"'},
    )


def tab_security_headers(teams_js_url: str) -> dict[str, str]:
    """The tab page runs two scripts: its own and the Teams JS SDK (and the SDK may call home)."""
    sdk = urlsplit(teams_js_url)
    origin = f"{sdk.scheme}://{sdk.netloc}" if sdk.scheme and sdk.netloc else ""
    policy = (
        f"default-src 'none'; script-src 'self' {origin}; connect-src 'self' {origin}; "
        "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {FRAME_ANCESTORS}"
    )
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}


def render_dashboard(data: DashboardData, token: str = "", refresh_s: int = 60) -> str:
    return _templates.get_template("dashboard.html.j2").render(
        data=data,
        timeline=timeline_chart(data.timeline, data.now),
        by_day=bar_chart(data.inquiries_by_day),
        responses=bar_chart(data.first_response, late=late_labels()),
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


TAB_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Go Live dashboard</title>
<link rel="icon" href="data:,">
</head>
<body style="font: 14px 'Segoe UI', system-ui, sans-serif; margin: 20px;">
<p id="status">Signing in with Teams…</p>
<script src="{sdk}"></script>
<script src="/dashboard/tab.js"></script>
</body>
</html>
"""

TAB_SCRIPT = """// The dashboard tab: sign in through Teams, then show the dashboard the server answers.
(async function () {
  var status = document.getElementById("status");
  try {
    await microsoftTeams.app.initialize();
    var token = await microsoftTeams.authentication.getAuthToken();
    var response = await fetch("/dashboard/tab/view", {
      method: "POST",
      headers: {"Authorization": "Bearer " + token},
      credentials: "omit"
    });
    if (!response.ok) {
      status.textContent = "Sign-in refused (" + response.status + "): " + (await response.text());
      return;
    }
    var html = await response.text();
    document.open();
    document.write(html);
    document.close();
  } catch (error) {
    status.textContent = "Teams sign-in failed: " + (error && error.message ? error.message : error);
  }
})();
"""


def routes(
    store: Store,
    clock: Clock,
    window: WindowSettings,
    access: DashboardAccess,
    leadership: LeaderStatus | None = None,
) -> list[web.RouteDef]:
    """``/dashboard``, ``/dashboard/data.json`` and the Teams tab's ``/dashboard/tab`` pages."""

    async def load() -> DashboardData:
        data = await load_dashboard(store, clock.now(), window, access.first_response_s)
        if leadership is not None:
            data = replace(data, leadership=await leadership.report())
        return data

    async def page(request: web.Request) -> web.Response:
        if not await authorized(request, access):
            return _unauthorized()
        html = render_dashboard(await load(), token=request.query.get("token", ""))
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    async def data_json(request: web.Request) -> web.Response:
        if not await authorized(request, access):
            return _unauthorized()
        return web.json_response((await load()).to_dict(), headers=SECURITY_HEADERS)

    async def tab(request: web.Request) -> web.Response:
        html = TAB_PAGE.replace("{sdk}", _attribute(access.teams_js_url))
        return web.Response(
            text=html,
            content_type="text/html",
            charset="utf-8",
            headers=tab_security_headers(access.teams_js_url),
        )

    async def tab_script(request: web.Request) -> web.Response:
        return web.Response(
            text=TAB_SCRIPT, content_type="application/javascript", charset="utf-8", headers=SECURITY_HEADERS
        )

    async def tab_view(request: web.Request) -> web.Response:
        # Development without a configured sign-in stays open, like /dashboard.
        if not (access.development and access.tab_sign_in is None):
            try:
                await tab_signed_in(_bearer(request), access)
            except TabRefused as refused:
                if refused.status == 401:
                    return _unauthorized(refused.reason)
                return web.Response(status=refused.status, text=f"{refused.status}: {refused.reason}\n")
        html = render_dashboard(await load())
        return web.Response(text=html, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS)

    return [
        web.get("/dashboard", page),
        web.get("/dashboard/data.json", data_json),
        web.get("/dashboard/tab", tab),
        web.get("/dashboard/tab.js", tab_script),
        web.post("/dashboard/tab/view", tab_view),
    ]


def _attribute(value: str) -> str:
    """A URL safe inside a double-quoted HTML attribute."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
