"""Rollout CSV import and export (the public format of docs/CONTRACTS.md section 6).

Format: UTF-8, a header row, then one row per site::

    week_start,station,name,time_zone,go_live_date
    2022-05-02,508,Atlanta,America/New_York,
    2022-05-02,528A7,Syracuse,America/New_York,2022-05-04

``go_live_date`` is optional (column or value) and defaults to the week's Monday. Column names are
matched case-insensitively and in any order; stations are upper-cased (``528a7`` is ``528A7``).

Files are read the way spreadsheets save them: a UTF-8 byte-order mark, CRLF (or CR) line ends,
spaces around values, and empty rows (or rows of only commas, as Excel leaves after the data) are
all fine; empty rows still count for line numbers. A date that is not ``YYYY-MM-DD`` (``5/9/2022``,
``2022-5-9``, an Excel ``2022-05-09 00:00:00``) is refused with the ISO form it probably meant as a
hint, because guessing between May 9 and September 5 is not ours to do.

The import is all-or-nothing: ``parse_rollout_csv`` either returns the whole plan or raises
``PlanImportError`` listing every problem as ``line N: reason`` (the header is line 1). A row is bad
when a required field is empty, a date is not YYYY-MM-DD or does not exist, ``week_start`` is not a
Monday, ``go_live_date`` is outside that week, ``time_zone`` is not an IANA zone, or its station
appeared on an earlier row (and, because the product stores them, when a station is not letters and
digits or longer than 20 characters, or a name longer than 200 characters).

The CSV helpers here (decoding, numbered records, dates, one site's fields) are shared with the
roster CSV and the add-week form (``schedule.week_addition``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from schedule.errors import CsvImportError, LineError, PlanImportError
from schedule.localtime import is_iana_zone
from schedule.plan import PlannedSite, RolloutPlan, Site

ROLLOUT_COLUMNS = ("week_start", "station", "name", "time_zone", "go_live_date")
ROLLOUT_REQUIRED = ("week_start", "station", "name", "time_zone")
SITE_COLUMNS = ("station", "name", "time_zone", "go_live_date")
SITE_REQUIRED = ("station", "name", "time_zone")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Forms people type or spreadsheets write instead of YYYY-MM-DD, read only to suggest the ISO form.
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_LOOSE_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
EXAMPLE_DATE = "2022-05-09"
#: What the product stores (and a go-live channel's name can carry) for a station and a site name.
MAX_STATION = 20
MAX_NAME = 200
_STATION = re.compile(rf"[0-9A-Za-z]{{1,{MAX_STATION}}}")


@dataclass(frozen=True)
class CsvRecord:
    """One data row: the line it starts on, its values by (lower-case) column name and the number
    of columns its header has."""

    line: int
    values: dict[str, str]
    width: int = 0

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def decode_csv_text(data: str | bytes, error: Callable[[list[LineError]], CsvImportError]) -> str:
    """CSV text without a byte-order mark; bytes must be UTF-8."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise error([LineError(line, "the file is not UTF-8 text")]) from None
    else:
        text = data
    return text.removeprefix("\ufeff")


def read_csv_records(
    text: str,
    known: Sequence[str],
    required: Sequence[str],
    error: Callable[[list[LineError]], CsvImportError],
) -> Iterator[CsvRecord]:
    """Check the header, then yield each row that holds a value, with the line it starts on.

    Header problems (missing, unknown or repeated columns) raise at once: the rows cannot be read
    without a good header. Empty rows, rows of only commas and rows of only spaces are skipped but
    counted. A row with more values than the header has columns yields a record with the extra
    values under the key ``""`` so the caller can report it.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise error([LineError(1, f"the header cannot be read as CSV ({exc})")]) from None
    if header is None or not any(cell.strip() for cell in header):
        raise error([LineError(1, f"the header row is missing; expected {','.join(known)}")])
    columns = [cell.strip().lower() for cell in header]
    while columns and not columns[-1]:  # a spreadsheet's trailing empty header cells
        columns.pop()
    problems: list[str] = []
    for column in columns:
        if column not in known:
            problems.append(f"unknown column {column!r} (expected {', '.join(known)})")
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(f"column {column} appears more than once")
    for column in required:
        if column not in columns:
            problems.append(f"missing column {column}")
    if problems:
        raise error([LineError(1, problem) for problem in problems])

    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise error([LineError(last_line + 1, f"cannot be read as CSV ({exc})")]) from None
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(columns, row, strict=False))
        if len(row) > len(columns):
            values[""] = ",".join(cell for cell in row[len(columns) :] if cell.strip())
        yield CsvRecord(line, values, len(columns))


def too_many_values(record: CsvRecord, width: int | None = None) -> str | None:
    """The problem of a row with values beyond its header's columns (None when it has none)."""
    if record.values.get(""):
        return f"more values than the header has columns ({record.width or width})"
    return None


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def iso_date_hint(value: str) -> str | None:
    """The YYYY-MM-DD date ``value`` most likely means, or None when it cannot be told.

    ``5/9/2022`` is read the American way (May 9), as the VA's spreadsheets write it, unless only
    the other reading is a real date (``13/5/2022``).
    """
    value = value.strip()
    guess: date | None = None
    if match := _US_DATE.fullmatch(value):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        year += 2000 if year < 100 else 0
        guess = _real_date(year, first, second) or _real_date(year, second, first)
    elif match := _DOTTED_DATE.fullmatch(value):
        guess = _real_date(int(match[3]), int(match[2]), int(match[1]))
    elif match := _LOOSE_ISO_DATE.fullmatch(value):
        guess = _real_date(int(match[1]), int(match[2]), int(match[3]))
    elif match := _COMPACT_DATE.fullmatch(value):
        guess = _real_date(int(match[1]), int(match[2]), int(match[3]))
    return guess.isoformat() if guess is not None else None


def parse_iso_date(label: str, value: str) -> tuple[date | None, str | None]:
    """(date, None) or (None, reason) for a YYYY-MM-DD value; the reason suggests the ISO form."""
    value = value.strip()
    if not _ISO_DATE.fullmatch(value):
        example = iso_date_hint(value) or EXAMPLE_DATE
        return None, f'{label} "{value}" is not a date in YYYY-MM-DD form (for example {example})'
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, f"{label} {value} is not a real date"


def parse_monday(label: str, value: str) -> tuple[date | None, str | None]:
    day, problem = parse_iso_date(label, value)
    if day is not None and day.weekday() != 0:
        return None, f"{label} {value.strip()} is a {day:%A}, not a Monday"
    return day, problem


def week_text(week_start: date) -> str:
    """``the week of 2022-05-02 (2022-05-02 to 2022-05-08)``: a week with its days, for messages."""
    last = week_start + timedelta(days=6)
    return f"the week of {week_start.isoformat()} ({week_start.isoformat()} to {last.isoformat()})"


def read_site_fields(
    record: CsvRecord, week_start: date | None
) -> tuple[Site | None, date | None, list[str]]:
    """One row's site (station, name, time zone) and go-live date, with every problem found.

    The go-live date is checked against ``week_start`` when it is known; it is None when the row
    leaves it empty (the caller defaults it to the Monday). Station numbers are upper-cased.
    """
    problems = [f"{column} is empty" for column in SITE_REQUIRED if not record.get(column)]
    station, name = record.get("station"), record.get("name")
    if station and not _STATION.fullmatch(station):
        problems.append(
            f"station {station[:30]!r} is not a station number (letters and digits, at most {MAX_STATION})"
        )
    if len(name) > MAX_NAME:
        problems.append(f"name is longer than {MAX_NAME} characters")
    go_live = None
    if record.get("go_live_date"):
        go_live, problem = parse_iso_date("go_live_date", record.get("go_live_date"))
        problems += [problem] if problem else []
        if week_start and go_live and not week_start <= go_live <= week_start + timedelta(days=6):
            problems.append(f"go_live_date {go_live.isoformat()} is outside {week_text(week_start)}")
            go_live = None
    time_zone = record.get("time_zone")
    if time_zone and not is_iana_zone(time_zone):
        problems.append(f"time_zone {time_zone!r} is not an IANA time zone (like America/New_York)")
    if problems:
        return None, go_live, problems
    site = Site(station=record.get("station").upper(), name=record.get("name"), time_zone=time_zone)
    return site, go_live, problems


def parse_rollout_csv(text: str | bytes) -> RolloutPlan:
    """The plan in a rollout CSV, or ``PlanImportError`` with every bad row (nothing is applied)."""
    text = decode_csv_text(text, PlanImportError)
    errors: list[LineError] = []
    entries: list[PlannedSite] = []
    first_line_of: dict[str, int] = {}

    for record in read_csv_records(text, ROLLOUT_COLUMNS, ROLLOUT_REQUIRED, PlanImportError):
        problems: list[str] = []
        extra = too_many_values(record)
        if extra:
            problems.append(extra)
        week_start = None
        if not record.get("week_start"):
            problems.append("week_start is empty")
        else:
            week_start, problem = parse_monday("week_start", record.get("week_start"))
            problems += [problem] if problem else []
        site, go_live, site_problems = read_site_fields(record, week_start)
        problems += site_problems

        station = record.get("station").upper()
        if station:
            if station in first_line_of:
                problems.append(f"station {station} already appeared on line {first_line_of[station]}")
            else:
                first_line_of[station] = record.line

        if problems:
            errors.extend(LineError(record.line, problem) for problem in problems)
            continue
        assert week_start is not None and site is not None
        entries.append(PlannedSite(site, week_start, go_live or week_start))

    if errors:
        raise PlanImportError(errors)
    return RolloutPlan(tuple(entries))


def export_rollout_csv(plan: RolloutPlan) -> str:
    """The plan as rollout CSV (pulled sites are left out: they are not part of the rollout)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROLLOUT_COLUMNS)
    for entry in plan.active():
        writer.writerow(
            [
                entry.week_start.isoformat(),
                entry.station,
                entry.name,
                entry.time_zone,
                entry.go_live_date.isoformat(),
            ]
        )
    return out.getvalue()
