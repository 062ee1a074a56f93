"""The rotation report: what came in during one rollout week and how it was handled (pure).

:func:`compute_rotation_report` turns plain rows (read by :mod:`bot.reporting.queries`) into a
:class:`RotationReport`; :func:`render_json`, :func:`render_markdown` and :func:`render_csv` print it.
Nothing here touches the database, the clock or settings.

The rules, so the numbers can be checked by hand:

- **Week**: a report covers the sites whose rollout ``week_start`` is the given Monday. A pulled site
  is listed only if it received inquiries. Every non-deleted inquiry of those sites counts, whenever
  it was posted; posts outside the go-live window (``go_live_day`` unknown, e.g. after retirement)
  are counted in ``outside_window`` rather than in ``by_day``.
- **By day**: ``inquiries.go_live_day`` (1 = go-live day, in the site's time zone); days 1 to
  ``window_days`` are always listed, zeros included.
- **First response**: ``first_response_at - posted_at`` in seconds (never below 0). ``median_s`` is the
  usual median (mean of the two middle values for an even count); ``p90_s`` is the nearest-rank 90th
  percentile (the value at rank ``ceil(0.9 * n)`` of the sorted times). ``within_5_min`` counts answers
  at or under the threshold (5 minutes, inclusive); ``within_5_min_share`` divides that by *all*
  inquiries, so an unanswered inquiry counts as missed. Both are ``None``/0 when nothing was answered.
- **Re-routes**: group changes of an inquiry's incident: the larger of its ``route_events`` rows and
  its ``inquiries.re_routes`` counter (the counter covers changes recorded without an event).
- **By group**: incidents (inquiries with a ServiceNow ``sys_id``) by their *final* assignment group;
  inquiries still waiting for their incident are counted in ``pending_incidents``.
- **Open at retirement**: an inquiry posted before its channel's ``retired_at`` whose incident was not
  resolved (state 6, 7 or 8) at that instant. No state history is kept, so this is approximated
  from the current state: an unresolved incident counts, and a resolved one counts only when its
  ``resolved_at`` is after ``retired_at``. Sites whose channel has not retired contribute 0;
  ``still_open`` counts incidents unresolved now, whatever the channel.
- **Per engineer**: first responses by the name that gave them (``first_response_by``) and the
  level-1/2 escalations that named them; ``by_assignee`` counts final ServiceNow assignees by their
  display name (their user name for incidents stored before names were kept).
- **Triage**: inquiries by the support handbook's triage category the engineer chose
  (``inquiries.triage``), every category listed (zeros included, in the handbook's order) and a
  label the handbook no longer has after them; ``untriaged`` counts inquiries nobody triaged.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.reporting.alerts import AlertRow, AlertsReport, alerts_report
from bot.reporting.alerts import render_markdown as alerts_markdown
from servicenow.model import RESOLVED_STATES
from servicenow.routing import TRIAGE_CATEGORIES

DEFAULT_WINDOW_DAYS = 7
DEFAULT_FIRST_RESPONSE_S = 300.0


class InvalidWeek(ValueError):
    """The week given is not a Monday in YYYY-MM-DD form."""


def parse_week(value: str) -> date:
    """The Monday of a rollout week from ``YYYY-MM-DD``; raises :class:`InvalidWeek` otherwise."""
    text = value.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise InvalidWeek(f"--week {value!r} is not a date in YYYY-MM-DD form")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidWeek(f"--week {value!r} is not a valid date (YYYY-MM-DD)") from None
    if day.weekday() != 0:
        monday = day - timedelta(days=day.weekday())
        raise InvalidWeek(
            f"--week {text} is a {day:%A}; give the Monday of the rollout week ({monday.isoformat()})"
        )
    return day


# --------------------------------------------------------------------------------------------------
# Input rows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRow:
    station: str
    name: str
    time_zone: str
    week_start: date
    go_live_date: date
    pulled: bool = False


@dataclass(frozen=True)
class ChannelRow:
    station: str
    status: str
    opened_at: datetime | None = None
    retired_at: datetime | None = None


@dataclass(frozen=True)
class InquiryRow:
    id: int
    station: str
    posted_at: datetime
    go_live_day: int | None = None
    late: bool = False
    has_incident: bool = False
    number: str | None = None
    url: str | None = None
    state: int | None = None
    assignment_group: str | None = None
    assigned_to: str | None = None
    first_response_at: datetime | None = None
    first_response_by: str | None = None
    re_routes: int = 0
    resolved_at: datetime | None = None
    triage: str | None = None
    assigned_to_name: str | None = None


@dataclass(frozen=True)
class EscalationRow:
    inquiry_id: int
    level: int
    notified: str | None = None


@dataclass(frozen=True)
class RotationData:
    """Everything the report of one week needs, as read from the database."""

    week: date
    sites: tuple[SiteRow, ...]
    channels: Mapping[str, ChannelRow]
    inquiries: tuple[InquiryRow, ...]
    route_events: Mapping[int, int] = field(default_factory=dict)
    escalations: tuple[EscalationRow, ...] = ()
    next_week: tuple[SiteRow, ...] = ()
    alerts: tuple[AlertRow, ...] = ()


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstResponse:
    answered: int
    unanswered: int
    median_s: float | None
    p90_s: float | None
    within_5_min: int
    within_5_min_share: float | None


@dataclass(frozen=True)
class DayCount:
    day: int
    inquiries: int


@dataclass(frozen=True)
class GroupCount:
    group: str
    incidents: int


@dataclass(frozen=True)
class TriageCount:
    category: str
    inquiries: int


@dataclass(frozen=True)
class LevelCount:
    level: int
    escalations: int


@dataclass(frozen=True)
class Escalations:
    total: int
    inquiries: int
    by_level: tuple[LevelCount, ...]


@dataclass(frozen=True)
class OpenIncident:
    station: str
    number: str
    url: str
    state: int | None


@dataclass(frozen=True)
class SiteReport:
    station: str
    name: str
    time_zone: str
    go_live_date: str
    pulled: bool
    channel_status: str
    retired_at: str | None
    inquiries: int
    outside_window: int
    by_day: tuple[DayCount, ...]
    by_group: tuple[GroupCount, ...]
    first_response: FirstResponse
    re_routes: int
    escalations: int
    open_at_retirement: int
    still_open: int
    by_triage: tuple[TriageCount, ...] = ()
    untriaged: int = 0


@dataclass(frozen=True)
class EngineerReport:
    name: str
    first_responses: int
    median_s: float | None
    within_5_min: int
    escalations_received: int


@dataclass(frozen=True)
class AssigneeCount:
    assignee: str
    incidents: int
    still_open: int


@dataclass(frozen=True)
class NextSite:
    station: str
    name: str
    time_zone: str
    go_live_date: str


@dataclass(frozen=True)
class NextWeek:
    week: str
    sites: tuple[NextSite, ...]


@dataclass(frozen=True)
class RotationReport:
    week: str
    week_end: str
    sites: int
    inquiries: int
    outside_window: int
    by_site: tuple[SiteReport, ...]
    by_day: tuple[DayCount, ...]
    by_group: tuple[GroupCount, ...]
    pending_incidents: int
    first_response: FirstResponse
    re_routes: int
    escalations: Escalations
    open_at_retirement: int
    open_at_retirement_incidents: tuple[OpenIncident, ...]
    still_open: int
    per_engineer: tuple[EngineerReport, ...]
    by_assignee: tuple[AssigneeCount, ...]
    next_week: NextWeek
    by_triage: tuple[TriageCount, ...] = ()
    untriaged: int = 0
    alerts: AlertsReport = field(default_factory=AlertsReport)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (docs/CONTRACTS.md section 6): tuples become lists, nothing else changes."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# --------------------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------------------


def percentile_nearest_rank(values: Sequence[float], fraction: float) -> float | None:
    """The value at rank ``ceil(fraction * n)`` of the sorted values (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def response_seconds(inquiry: InquiryRow) -> float | None:
    if inquiry.first_response_at is None:
        return None
    return max(0.0, (inquiry.first_response_at - inquiry.posted_at).total_seconds())


def first_response_stats(
    inquiries: Sequence[InquiryRow], threshold_s: float = DEFAULT_FIRST_RESPONSE_S
) -> FirstResponse:
    times = [s for s in (response_seconds(i) for i in inquiries) if s is not None]
    within = sum(1 for s in times if s <= threshold_s)
    return FirstResponse(
        answered=len(times),
        unanswered=len(inquiries) - len(times),
        median_s=_round(statistics.median(times)) if times else None,
        p90_s=_round(percentile_nearest_rank(times, 0.9)),
        within_5_min=within,
        within_5_min_share=round(within / len(inquiries), 4) if inquiries else None,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def is_still_open(inquiry: InquiryRow) -> bool:
    return inquiry.state not in RESOLVED_STATES


def was_open_at_retirement(inquiry: InquiryRow, channel: ChannelRow | None) -> bool:
    """Approximated from the current state and ``resolved_at`` (see the module docstring)."""
    if channel is None or channel.retired_at is None or inquiry.posted_at >= channel.retired_at:
        return False
    if inquiry.state in RESOLVED_STATES:
        return inquiry.resolved_at is not None and inquiry.resolved_at > channel.retired_at
    return True


def _by_day(inquiries: Iterable[InquiryRow], window_days: int) -> tuple[DayCount, ...]:
    counts = Counter(i.go_live_day for i in inquiries if i.go_live_day is not None)
    days = sorted(set(range(1, window_days + 1)) | set(counts))
    return tuple(DayCount(day, counts.get(day, 0)) for day in days)


def _by_group(inquiries: Iterable[InquiryRow]) -> tuple[GroupCount, ...]:
    counts = Counter(i.assignment_group or "(none)" for i in inquiries if i.has_incident)
    return tuple(GroupCount(group, n) for group, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _by_triage(inquiries: Iterable[InquiryRow]) -> tuple[TriageCount, ...]:
    counts = Counter(i.triage for i in inquiries if i.triage)
    labels = [c.label for c in TRIAGE_CATEGORIES]
    labels += sorted(set(counts) - set(labels))
    return tuple(TriageCount(label, counts.get(label, 0)) for label in labels)


def compute_rotation_report(
    data: RotationData,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    first_response_s: float = DEFAULT_FIRST_RESPONSE_S,
) -> RotationReport:
    by_station: dict[str, list[InquiryRow]] = defaultdict(list)
    for inquiry in data.inquiries:
        by_station[inquiry.station].append(inquiry)
    sites = [
        site
        for site in sorted(data.sites, key=lambda s: (s.go_live_date, s.station))
        if site.week_start == data.week and (not site.pulled or by_station.get(site.station))
    ]
    stations = {site.station for site in sites}
    inquiries = [i for i in data.inquiries if i.station in stations]
    inquiry_ids = {i.id for i in inquiries}
    reroutes = {i.id: max(i.re_routes, data.route_events.get(i.id, 0)) for i in inquiries}
    escalations = [e for e in data.escalations if e.inquiry_id in inquiry_ids]
    escalations_by_inquiry = Counter(e.inquiry_id for e in escalations)

    site_reports = []
    open_incidents: list[OpenIncident] = []
    for site in sites:
        mine = by_station.get(site.station, [])
        channel = data.channels.get(site.station)
        open_here = [i for i in mine if was_open_at_retirement(i, channel)]
        open_incidents += [
            OpenIncident(site.station, i.number or f"inquiry {i.id}", i.url or "", i.state) for i in open_here
        ]
        site_reports.append(
            SiteReport(
                station=site.station,
                name=site.name,
                time_zone=site.time_zone,
                go_live_date=site.go_live_date.isoformat(),
                pulled=site.pulled,
                channel_status=channel.status if channel else "planned",
                retired_at=channel.retired_at.isoformat() if channel and channel.retired_at else None,
                inquiries=len(mine),
                outside_window=sum(1 for i in mine if i.go_live_day is None),
                by_day=_by_day(mine, window_days),
                by_group=_by_group(mine),
                first_response=first_response_stats(mine, first_response_s),
                re_routes=sum(reroutes[i.id] for i in mine),
                escalations=sum(escalations_by_inquiry[i.id] for i in mine),
                open_at_retirement=len(open_here),
                still_open=sum(1 for i in mine if is_still_open(i)),
                by_triage=_by_triage(mine),
                untriaged=sum(1 for i in mine if not i.triage),
            )
        )

    levels = Counter(e.level for e in escalations)
    return RotationReport(
        week=data.week.isoformat(),
        week_end=(data.week + timedelta(days=6)).isoformat(),
        sites=len(sites),
        inquiries=len(inquiries),
        outside_window=sum(1 for i in inquiries if i.go_live_day is None),
        by_site=tuple(site_reports),
        by_day=_by_day(inquiries, window_days),
        by_group=_by_group(inquiries),
        pending_incidents=sum(1 for i in inquiries if not i.has_incident),
        first_response=first_response_stats(inquiries, first_response_s),
        re_routes=sum(reroutes.values()),
        escalations=Escalations(
            total=len(escalations),
            inquiries=len(escalations_by_inquiry),
            by_level=tuple(LevelCount(level, n) for level, n in sorted(levels.items())),
        ),
        open_at_retirement=len(open_incidents),
        open_at_retirement_incidents=tuple(open_incidents),
        still_open=sum(1 for i in inquiries if is_still_open(i)),
        per_engineer=_per_engineer(inquiries, escalations, first_response_s),
        by_assignee=_by_assignee(inquiries),
        next_week=NextWeek(
            week=(data.week + timedelta(days=7)).isoformat(),
            sites=tuple(
                NextSite(s.station, s.name, s.time_zone, s.go_live_date.isoformat())
                for s in sorted(data.next_week, key=lambda s: (s.go_live_date, s.station))
                if not s.pulled
            ),
        ),
        by_triage=_by_triage(inquiries),
        untriaged=sum(1 for i in inquiries if not i.triage),
        alerts=alerts_report(data.alerts, first_response_s),
    )


def _per_engineer(
    inquiries: Sequence[InquiryRow], escalations: Sequence[EscalationRow], threshold_s: float
) -> tuple[EngineerReport, ...]:
    times: dict[str, list[float]] = defaultdict(list)
    for inquiry in inquiries:
        seconds = response_seconds(inquiry)
        if seconds is not None:
            times[inquiry.first_response_by or "(unknown)"].append(seconds)
    notified = Counter(e.notified for e in escalations if e.notified)
    names = sorted(set(times) | set(notified))
    return tuple(
        EngineerReport(
            name=name,
            first_responses=len(times.get(name, [])),
            median_s=_round(statistics.median(times[name])) if times.get(name) else None,
            within_5_min=sum(1 for s in times.get(name, []) if s <= threshold_s),
            escalations_received=notified.get(name, 0),
        )
        for name in names
    )


def _by_assignee(inquiries: Sequence[InquiryRow]) -> tuple[AssigneeCount, ...]:
    total: Counter[str] = Counter()
    still: Counter[str] = Counter()
    for inquiry in inquiries:
        if inquiry.has_incident and inquiry.assigned_to:
            # By name as ServiceNow shows it; the user name only when no name was recorded.
            who = inquiry.assigned_to_name or inquiry.assigned_to
            total[who] += 1
            still[who] += is_still_open(inquiry)
    return tuple(AssigneeCount(name, total[name], still[name]) for name in sorted(total))


# --------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------


def render_json(report: RotationReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def render_markdown(report: RotationReport) -> str:
    fr = report.first_response
    out = [f"# Rotation report: week of {report.week}", ""]
    if not report.sites:
        out += ["No sites went live this week.", ""]
    out += _md_table(
        ["measure", "value"],
        [
            ("Sites", report.sites),
            ("Inquiries", report.inquiries),
            ("Answered", fr.answered),
            ("Unanswered", fr.unanswered),
            ("Median first response", format_duration(fr.median_s)),
            ("90th percentile first response", format_duration(fr.p90_s)),
            ("Answered within 5 minutes", f"{fr.within_5_min} ({_share(fr.within_5_min_share)})"),
            ("Re-routes", report.re_routes),
            ("Escalations", report.escalations.total),
            ("Open at channel retirement", report.open_at_retirement),
            ("Still open now", report.still_open),
            ("Posted outside the go-live window", report.outside_window),
        ],
    )
    if report.by_site:
        days = [d.day for d in report.by_day]
        out += ["", "## By site", ""]
        out += _md_table(
            [
                "station",
                "site",
                "go-live",
                "channel",
                "inquiries",
                *[f"day {d}" for d in days],
                "median",
                "p90",
                "within 5 min",
                "re-routes",
                "escalations",
                "open at retirement",
            ],
            [
                [
                    s.station,
                    s.name,
                    s.go_live_date,
                    s.channel_status,
                    s.inquiries,
                    *[{d.day: d.inquiries for d in s.by_day}.get(day, 0) for day in days],
                    format_duration(s.first_response.median_s),
                    format_duration(s.first_response.p90_s),
                    s.first_response.within_5_min,
                    s.re_routes,
                    s.escalations,
                    s.open_at_retirement,
                ]
                for s in report.by_site
            ],
        )
        out += ["", "## By day of go-live window", ""]
        out += _md_table(["day", "inquiries"], [(d.day, d.inquiries) for d in report.by_day])
    if report.by_group:
        out += ["", "## Incidents by final group", ""]
        out += _md_table(["group", "incidents"], [(g.group, g.incidents) for g in report.by_group])
    if report.inquiries:
        out += ["", "## By triage category", ""]
        out += _md_table(
            ["category", "inquiries"],
            [*((t.category, t.inquiries) for t in report.by_triage), ("(not triaged)", report.untriaged)],
        )
    if report.per_engineer:
        out += ["", "## Per engineer", ""]
        out += _md_table(
            ["engineer", "first responses", "median", "within 5 min", "escalations received"],
            [
                (
                    e.name,
                    e.first_responses,
                    format_duration(e.median_s),
                    e.within_5_min,
                    e.escalations_received,
                )
                for e in report.per_engineer
            ],
        )
    if report.open_at_retirement_incidents:
        out += ["", "## Open at channel retirement", ""]
        out += [
            f"- {i.station}: [{i.number}]({i.url})" if i.url else f"- {i.station}: {i.number}"
            for i in report.open_at_retirement_incidents
        ]
    out += alerts_markdown(report.alerts, format_duration)
    out += ["", f"## Going live next week ({report.next_week.week})", ""]
    if report.next_week.sites:
        out += _md_table(
            ["station", "site", "go-live", "time zone"],
            [(s.station, s.name, s.go_live_date, s.time_zone) for s in report.next_week.sites],
        )
    else:
        out.append("No sites planned.")
    return "\n".join(out) + "\n"


def render_csv(report: RotationReport) -> str:
    """One row per site, then a ``TOTAL`` row: the per-site, per-day table managers open in a sheet."""
    days = [d.day for d in report.by_day]
    groups = sorted({g.group for g in report.by_group})
    categories = [t.category for t in report.by_triage]
    header = [
        "week",
        "station",
        "name",
        "go_live_date",
        "channel_status",
        "inquiries",
        *[f"day_{d}" for d in days],
        "outside_window",
        *[f"incidents:{g}" for g in groups],
        "re_routes",
        "answered",
        "unanswered",
        "median_s",
        "p90_s",
        "within_5_min",
        "escalations",
        "open_at_retirement",
        *[f"triage:{c}" for c in categories],
        "untriaged",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)

    def row(
        station,
        name,
        go_live,
        status,
        inquiries,
        by_day,
        outside,
        by_group,
        fr,
        re_routes,
        esc,
        open_,
        triage,
    ):
        day_map = {d.day: d.inquiries for d in by_day}
        group_map = {g.group: g.incidents for g in by_group}
        triage_map = {t.category: t.inquiries for t in triage[0]}
        return [
            report.week,
            station,
            name,
            go_live,
            status,
            inquiries,
            *[day_map.get(d, 0) for d in days],
            outside,
            *[group_map.get(g, 0) for g in groups],
            re_routes,
            fr.answered,
            fr.unanswered,
            "" if fr.median_s is None else fr.median_s,
            "" if fr.p90_s is None else fr.p90_s,
            fr.within_5_min,
            esc,
            open_,
            *[triage_map.get(c, 0) for c in categories],
            triage[1],
        ]

    for s in report.by_site:
        writer.writerow(
            row(
                s.station,
                s.name,
                s.go_live_date,
                s.channel_status,
                s.inquiries,
                s.by_day,
                s.outside_window,
                s.by_group,
                s.first_response,
                s.re_routes,
                s.escalations,
                s.open_at_retirement,
                (s.by_triage, s.untriaged),
            )
        )
    writer.writerow(
        row(
            "TOTAL",
            "",
            "",
            "",
            report.inquiries,
            report.by_day,
            report.outside_window,
            report.by_group,
            report.first_response,
            report.re_routes,
            report.escalations.total,
            report.open_at_retirement,
            (report.by_triage, report.untriaged),
        )
    )
    return buffer.getvalue()


RENDERERS = {"json": render_json, "md": render_markdown, "csv": render_csv}
