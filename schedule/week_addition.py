"""The add-week form checked in one pass: every problem a delivery manager can fix, at once.

The form has two fields: the week's Monday (``YYYY-MM-DD``) and the sites, one per line as
``station,name,time_zone[,go_live_date]`` (the rollout CSV's columns without ``week_start``).
``validate_week_addition`` reports the form's own problems (empty fields, a date that is not
YYYY-MM-DD or not a Monday, a bad time zone, a go-live date outside the week, a station listed twice)
together with everything ``schedule.edits.add_week`` would refuse later: the week already in the
plan, a station already planned, a go-live window that is already over. So a manager fixes the
whole form in one go instead of learning one refusal per submit.

Problems about one site line read ``site line N: reason`` (the first line of the sites field is
1; empty lines count). When the answer has no problems, ``add_week(plan, week_start, entries,
now=now, settings=settings)`` succeeds with the same inputs.
"""

from __future__ import annotations

import csv
from datetime import date, datetime

from schedule.csvio import SITE_COLUMNS, CsvRecord, parse_iso_date, read_site_fields
from schedule.plan import PlannedSite, RolloutPlan, WindowSettings, window_for

NO_SITES = "add at least one site (station,name,time_zone[,go_live_date])"


def _week(plan: RolloutPlan, text: str, problems: list[str]) -> date | None:
    """The week's Monday, or None with the reason added to ``problems``."""
    if not text:
        problems.append("the week start is empty")
        return None
    week, problem = parse_iso_date("week start", text)
    if problem is not None or week is None:
        problems.append(problem or f"week start {text} is not a date")
        return None
    if week.weekday() != 0:
        problems.append(f"week start {text} is a {week:%A}, not a Monday")
        return None
    if plan.sites_in_week(week):
        problems.append(f"the week of {week.isoformat()} is already in the plan; add sites to it one by one")
    return week


def _site_record(number: int, line: str) -> CsvRecord:
    cells = next(csv.reader([line]), [])
    values = dict(zip(SITE_COLUMNS, cells, strict=False))
    if len(cells) > len(SITE_COLUMNS):
        values[""] = ",".join(cell for cell in cells[len(SITE_COLUMNS) :] if cell.strip())
    return CsvRecord(number, values, len(SITE_COLUMNS))


def validate_week_addition(
    plan: RolloutPlan,
    week_start_text: str,
    sites_text: str,
    now: datetime | None = None,
    settings: WindowSettings | None = None,
) -> tuple[date | None, list[PlannedSite], list[str]]:
    """(week_start, entries, problems) for the add-week form against ``plan`` at ``now``.

    ``week_start`` is None when the week field is unusable; ``entries`` is empty whenever there
    are problems. Site lines are checked even when the week is unusable (then without the
    go-live-in-week and window checks, which need the week).
    """
    problems: list[str] = []
    week = _week(plan, week_start_text.strip(), problems)
    lines = sites_text.splitlines()
    if not any(line.strip() for line in lines):
        problems.append(NO_SITES)
        return week, [], problems

    entries: list[PlannedSite] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _site_record(number, line)
        line_problems: list[str] = []
        if record.values.get(""):
            line_problems.append(f"more values than a site line has ({','.join(SITE_COLUMNS)})")
        site, go_live, site_problems = read_site_fields(record, week)
        line_problems += site_problems
        station = record.get("station").upper()
        if station in first_line_of:
            line_problems.append(f"station {station} already appeared on site line {first_line_of[station]}")
        elif station:
            first_line_of[station] = number
        planned = plan.get(station) if station else None
        if planned is not None and not planned.pulled:
            line_problems.append(
                f"station {station} is already planned ({planned.site}, the week of "
                f"{planned.week_start.isoformat()}); use move to change its week"
            )
        if site is not None and week is not None and not line_problems:
            entry = PlannedSite(site, week, go_live or week)
            if now is not None and now >= window_for(entry, settings).retires_at:
                line_problems.append(
                    f"cannot plan {site}: its go-live window (the week of {week.isoformat()}) has already ended"
                )
            entries.append(entry)
        problems += [f"site line {number}: {problem}" for problem in line_problems]

    if problems:
        return week, [], problems
    return week, entries, []
