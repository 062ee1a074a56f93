"""Roster CSV import and export (docs/ROSTER_CSV.md has the user-facing description).

One UTF-8 CSV file with a ``kind`` column saying what each row is::

    kind,engineer,name,aad_object_id,servicenow_user,email,time_zone,work_start,work_end,work_days,production_access,week_start,date,github_login,slack_user_id
    engineer,jane,Jane Doe,0f8e...,jane.doe,jane.doe@va.gov,America/New_York,08:00,17:00,Mon-Fri,yes,,,jane-doe,U024BE7LH
    primary,jane,,,,,,,,,,2022-05-02,,,
    backup,marcus,,,,,,,,,,2022-05-02,,,
    fallback,rosa,,,,,,,,,,2022-05-02,2022-05-06,,
    observer,kai,,,,,,,,,,2022-05-02,,,
    swap,marcus,,,,,,,,,,2022-05-02,2022-05-03,,

- ``engineer`` rows define a person: ``engineer`` is their key (used by the other rows), ``name``,
  ``aad_object_id`` (the Entra object id, a GUID, any letter case), ``servicenow_user`` (their
  ServiceNow user name), optional ``email``, ``github_login`` and ``slack_user_id``, ``time_zone``
  (IANA), ``work_start`` / ``work_end`` (HH:MM, start before end), ``work_days`` (``Mon-Fri``,
  ``Mon,Wed,Fri``, ``Sun-Thu``; names or 3-letter abbreviations) and ``production_access`` (yes/no,
  true/false, y/n, 1/0). The identifiers follow ``schedule.identity``; each belongs to one
  engineer only.
- ``primary``, ``backup`` and ``observer`` rows put an engineer on a week (``week_start``, a Monday).
  Each week needs exactly one primary and one backup, two different people, at least one of them
  with production access. A week may have several observers.
- ``fallback`` rows put an engineer on one ``date`` (on their own clock); ``week_start`` may be
  left empty (the date's Monday) or must be the Monday of that week. A week with fallback,
  observer or swap rows must also have a primary and a backup. A fallback row naming the week's
  backup is read as a swap of that date (how swaps were written before swap rows existed).
- ``swap`` rows record a ``swap``: on that ``date`` (on the primary's clock) the week's primary and
  backup exchange roles. ``engineer`` names either of the pair (export writes the backup, who leads
  that day); ``week_start`` is optional as for fallback rows.

Only the columns ``kind`` and ``engineer`` must be in the header; a missing column reads as empty.
Values that do not belong to a row's kind must be left empty. Rows may come in any order (a week
row may name an engineer defined further down). Files are read the way spreadsheets save them (see
``schedule.csvio``: byte-order mark, CRLF, spaces, empty rows). The import is all-or-nothing:
either the whole roster or ``RosterImportError`` with every problem as ``line N: reason`` (the
header is line 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, time

from schedule.csvio import (
    CsvRecord,
    decode_csv_text,
    parse_iso_date,
    parse_monday,
    read_csv_records,
    too_many_values,
)
from schedule.errors import InvalidScheduleValue, LineError, RosterImportError
from schedule.identity import (
    aad_object_id_problem,
    email_problem,
    github_login_problem,
    normalize_aad_object_id,
    servicenow_user_problem,
    slack_user_id_problem,
)
from schedule.localtime import is_iana_zone, week_monday
from schedule.roster import DutyRoster, Engineer, RosterWeek

ROSTER_COLUMNS = (
    "kind",
    "engineer",
    "name",
    "aad_object_id",
    "servicenow_user",
    "email",
    "time_zone",
    "work_start",
    "work_end",
    "work_days",
    "production_access",
    "week_start",
    "date",
    # Added later: at the end, so files written before them keep their column order.
    "github_login",
    "slack_user_id",
)
ENGINEER_COLUMNS = (
    "name",
    "aad_object_id",
    "servicenow_user",
    "email",
    "time_zone",
    "work_start",
    "work_end",
    "work_days",
    "production_access",
    "github_login",
    "slack_user_id",
)
OPTIONAL_ENGINEER_COLUMNS = ("email", "github_login", "slack_user_id")
ENGINEER_REQUIRED = tuple(column for column in ENGINEER_COLUMNS if column not in OPTIONAL_ENGINEER_COLUMNS)
KINDS = ("engineer", "primary", "backup", "fallback", "observer", "swap")
# The identifier columns and their rules (schedule.identity); an empty optional one is not checked.
_IDENTIFIER_RULES = (
    ("aad_object_id", aad_object_id_problem),
    ("servicenow_user", servicenow_user_problem),
    ("email", email_problem),
    ("github_login", github_login_problem),
    ("slack_user_id", slack_user_id_problem),
)

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _day_number(token: str) -> int | None:
    token = token.strip().lower()
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if token in names:
            return names.index(token) + 1
    return None


def parse_work_days(text: str) -> frozenset[int] | None:
    """ISO weekdays from ``Mon-Fri``, ``Mon,Wed,Fri``, ``Sun-Thu`` ...; None if unreadable."""
    days: set[int] = set()
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        first, sep, last = part.partition("-")
        start, end = _day_number(first), _day_number(last) if sep else _day_number(first)
        if start is None or end is None:
            return None
        day = start
        days.add(day)
        while day != end:  # a range may wrap over the weekend: Sat-Mon
            day = day % 7 + 1
            days.add(day)
    return frozenset(days) if days else None


def format_work_days(days: frozenset[int]) -> str:
    """The shortest ``Mon-Fri`` style text for a set of ISO weekdays."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = _DAY_NAMES[run[0] - 1].title(), _DAY_NAMES[run[-1] - 1].title()
        parts.append(first if len(run) == 1 else f"{first}-{last}")
    return ",".join(parts)


def _parse_clock(label: str, value: str) -> tuple[time | None, str | None]:
    match = _HH_MM.fullmatch(value)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2])), None
    return None, f"{label} {value!r} is not a time in HH:MM form (00:00 to 23:59)"


@dataclass
class _WeekRows:
    """The rows of one roster week while it is being read: (engineer key, line) per role."""

    first_line: int
    primary: tuple[str, int] | None = None
    backup: tuple[str, int] | None = None
    fallback: dict[date, tuple[str, int]] = field(default_factory=dict)
    observers: list[tuple[str, int]] = field(default_factory=list)
    swaps: dict[date, tuple[str, int]] = field(default_factory=dict)


def _parse_engineer(record: CsvRecord, problems: list[str]) -> Engineer | None:
    key = record.get("engineer")
    for column in ENGINEER_REQUIRED:
        if not record.get(column):
            problems.append(f"{column} is empty")
    for column in ("week_start", "date"):
        if record.get(column):
            problems.append(f"{column} must be empty on an engineer row")
    for column, rule in _IDENTIFIER_RULES:
        value = record.get(column)
        problem = rule(value) if value else None
        if problem:
            problems.append(problem)
    time_zone = record.get("time_zone")
    if time_zone and not is_iana_zone(time_zone):
        problems.append(f"time_zone {time_zone!r} is not an IANA time zone (like America/New_York)")
    start = end = None
    if record.get("work_start"):
        start, problem = _parse_clock("work_start", record.get("work_start"))
        problems += [problem] if problem else []
    if record.get("work_end"):
        end, problem = _parse_clock("work_end", record.get("work_end"))
        problems += [problem] if problem else []
    if start is not None and end is not None and not start < end:
        problems.append(f"work_start {start:%H:%M} must be before work_end {end:%H:%M}")
    days = None
    if record.get("work_days"):
        days = parse_work_days(record.get("work_days"))
        if days is None:
            problems.append(f"work_days {record.get('work_days')!r} is not like Mon-Fri or Mon,Wed,Fri")
    access_text = record.get("production_access").lower()
    if access_text and access_text not in _YES | _NO:
        problems.append(f"production_access {record.get('production_access')!r} is not yes or no")
    if problems:
        return None
    assert start is not None and end is not None and days is not None
    return Engineer(
        key=key,
        name=record.get("name"),
        aad_object_id=normalize_aad_object_id(record.get("aad_object_id")),
        servicenow_user=record.get("servicenow_user"),
        time_zone=time_zone,
        work_start=start,
        work_end=end,
        work_days=days,
        production_access=access_text in _YES,
        email=record.get("email"),
        github_login=record.get("github_login"),
        slack_user_id=record.get("slack_user_id"),
    )


def parse_roster_csv(text: str | bytes) -> DutyRoster:
    """The roster in a roster CSV, or ``RosterImportError`` listing every bad row (nothing applied)."""
    text = decode_csv_text(text, RosterImportError)
    errors: list[LineError] = []
    engineers: dict[str, Engineer] = {}
    engineer_line: dict[str, int] = {}
    identifier_line: dict[tuple[str, str], int] = {}
    weeks: dict[date, _WeekRows] = {}
    references: list[tuple[str, int]] = []

    def fail(line: int, reason: str) -> None:
        errors.append(LineError(line, reason))

    for record in read_csv_records(text, ROSTER_COLUMNS, ("kind", "engineer"), RosterImportError):
        problems: list[str] = []
        extra = too_many_values(record)
        if extra:
            problems.append(extra)
        kind, key = record.get("kind").lower(), record.get("engineer")
        if not kind:
            problems.append("kind is empty")
        elif kind not in KINDS:
            problems.append(f"kind {record.get('kind')!r} is not one of {', '.join(KINDS)}")
        if not key:
            problems.append("engineer is empty")

        if kind == "engineer":
            if key and key in engineer_line:
                problems.append(f"engineer {key} is already defined on line {engineer_line[key]}")
            # Each identifier finds one engineer, whatever its letter case.
            for column, _ in _IDENTIFIER_RULES:
                value = record.get(column)
                if not value:
                    continue
                taken = identifier_line.setdefault((column, value.lower()), record.line)
                if taken != record.line:
                    problems.append(f"{column} {value} is already used on line {taken}")
            if key:
                engineer_line.setdefault(key, record.line)
            engineer = _parse_engineer(record, problems)
            if engineer is not None and not problems:
                engineers[key] = engineer
        elif kind in KINDS:
            _read_assignment(record, kind, key, problems, weeks, references)

        for problem in problems:
            fail(record.line, problem)

    for key, line in references:
        if key not in engineer_line:
            fail(line, f"engineer {key!r} is not defined by an engineer row")

    for week_start, rows in sorted(weeks.items()):
        label = f"week {week_start.isoformat()}"
        if rows.primary is None:
            fail(rows.first_line, f"{label} has no primary")
        if rows.backup is None:
            fail(rows.first_line, f"{label} has no backup")
        if rows.primary is None or rows.backup is None:
            continue
        primary, backup = rows.primary[0], rows.backup[0]
        later = max(rows.primary[1], rows.backup[1])
        if primary == backup:
            fail(later, f"{label}: {primary} cannot be both primary and backup")
        elif primary in engineers and backup in engineers:  # otherwise already reported
            if not (engineers[primary].production_access or engineers[backup].production_access):
                fail(
                    later,
                    f"{label}: neither the primary ({primary}) nor the backup ({backup}) has "
                    "production access; at least one of them must",
                )
        for day, (key, line) in rows.fallback.items():
            if key == primary:
                fail(line, f"fallback {key} on {day.isoformat()} is already the primary of {label}")
        for key, line in rows.observers:
            if key in (primary, backup):
                fail(line, f"observer {key} is already the primary or backup of {label}")
        for day, (key, line) in rows.swaps.items():
            if key not in (primary, backup):
                fail(
                    line,
                    f"swap on {day.isoformat()} names {key}, who is neither the primary ({primary}) "
                    f"nor the backup ({backup}) of {label}",
                )

    if errors:
        raise RosterImportError(errors)
    roster_weeks = [
        RosterWeek(
            week_start=week_start,
            primary=rows.primary[0],
            backup=rows.backup[0],
            fallback={day: key for day, (key, _) in rows.fallback.items()},
            observers=tuple(key for key, _ in rows.observers),
            swaps=frozenset(rows.swaps),
        )
        for week_start, rows in sorted(weeks.items())
        if rows.primary and rows.backup
    ]
    try:
        return DutyRoster(engineers, tuple(roster_weeks))
    except InvalidScheduleValue as exc:  # a rule the row checks above missed: still all-or-nothing
        raise RosterImportError([LineError(1, str(exc))]) from None


def _read_assignment(
    record: CsvRecord,
    kind: str,
    key: str,
    problems: list[str],
    weeks: dict[date, _WeekRows],
    references: list[tuple[str, int]],
) -> None:
    for column in ENGINEER_COLUMNS:
        if record.get(column):
            problems.append(
                f"{column} belongs on the engineer row of {key or 'the engineer'}, not a {kind} row"
            )
    week_start = day = None
    dated = kind in ("fallback", "swap")  # rows about one date: the week may be left to the date
    if record.get("week_start"):
        week_start, problem = parse_monday("week_start", record.get("week_start"))
        problems += [problem] if problem else []
    elif not dated:
        problems.append("week_start is empty")
    if dated:
        if record.get("date"):
            day, problem = parse_iso_date("date", record.get("date"))
            problems += [problem] if problem else []
        else:
            what = "the fallback covers" if kind == "fallback" else "primary and backup swap"
            problems.append(f"date is empty (the day {what})")
        if day is not None:
            monday = week_monday(day)
            if week_start is not None and week_start != monday:
                problems.append(f"date {day.isoformat()} is outside the week of {week_start.isoformat()}")
            week_start = monday
    elif record.get("date"):
        problems.append(f"date must be empty on a {kind} row (it is for fallback and swap rows)")
    if problems or week_start is None or not key:
        return

    references.append((key, record.line))
    rows = weeks.setdefault(week_start, _WeekRows(first_line=record.line))
    label = f"week {week_start.isoformat()}"
    if kind in ("primary", "backup"):
        taken = getattr(rows, kind)
        if taken is not None:
            problems.append(f"{label} already has a {kind} ({taken[0]}, line {taken[1]})")
        else:
            setattr(rows, kind, (key, record.line))
    elif kind == "fallback":
        assert day is not None
        if day in rows.fallback:
            other, line = rows.fallback[day]
            problems.append(f"{day.isoformat()} already has a fallback ({other}, line {line})")
        else:
            rows.fallback[day] = (key, record.line)
    elif kind == "swap":
        assert day is not None
        if day in rows.swaps:
            problems.append(f"{day.isoformat()} is already swapped (line {rows.swaps[day][1]})")
        else:
            rows.swaps[day] = (key, record.line)
    else:
        if any(key == other for other, _ in rows.observers):
            problems.append(f"{key} is already an observer in {label}")
        else:
            rows.observers.append((key, record.line))


def export_roster_csv(roster: DutyRoster) -> str:
    """The roster as roster CSV: engineers first, then each week's rows (swaps as swap rows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ROSTER_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for engineer in roster.engineers.values():
        writer.writerow(
            {
                "kind": "engineer",
                "engineer": engineer.key,
                "name": engineer.name,
                "aad_object_id": engineer.aad_object_id,
                "servicenow_user": engineer.servicenow_user,
                "email": engineer.email,
                "time_zone": engineer.time_zone,
                "work_start": engineer.work_start.strftime("%H:%M"),
                "work_end": engineer.work_end.strftime("%H:%M"),
                "work_days": format_work_days(engineer.work_days),
                "production_access": "yes" if engineer.production_access else "no",
                "github_login": engineer.github_login,
                "slack_user_id": engineer.slack_user_id,
            }
        )
    for week in roster.weeks:
        monday = week.week_start.isoformat()
        rows = [("primary", week.primary, ""), ("backup", week.backup, "")]
        rows += [("fallback", key, day.isoformat()) for day, key in week.fallback.items()]
        rows += [("observer", key, "") for key in week.observers]
        rows += [("swap", week.backup, day.isoformat()) for day in sorted(week.swaps)]
        for kind, key, day_text in rows:
            writer.writerow({"kind": kind, "engineer": key, "week_start": monday, "date": day_text})
    return out.getvalue()


__all__ = [
    "RosterImportError",
    "export_roster_csv",
    "format_work_days",
    "parse_roster_csv",
    "parse_work_days",
]
