"""``golive schedule ...`` and ``golive roster ...``: the plan and the duty roster from the command line.

Each ``cmd_*`` takes the argparse namespace built in ``bot.cli`` and returns the exit code:
0 success, 1 the file has bad rows (or there is nothing to show), 2 bad usage or configuration
(an unreadable file, an unsupported database URL). User errors are printed without a traceback.

The database comes from ``Settings().database_url`` (``GOLIVE_DATABASE_URL``) and is created or
migrated on first use. Imports are all-or-nothing: the file is parsed completely before the
database is opened, so a file with any bad row changes nothing.

A rollout CSV replaces the plan; stations missing from the file are marked pulled (never deleted),
so their channels can be cancelled, and the ``--dry-run`` diff says so.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.bridge import records
from bot.cli import CliError, _settings
from bot.settings import Settings
from bot.storage.database import DatabaseUrlError, create_engine, migrate
from bot.storage.store import Store
from schedule.csvio import export_rollout_csv, parse_rollout_csv
from schedule.edits import diff
from schedule.errors import CsvImportError
from schedule.localtime import zone
from schedule.plan import RolloutPlan, WindowSettings, window_for
from schedule.preview import preview, preview_json
from schedule.roster import DutyRoster, duty_at, is_working, pick_assignee
from schedule.roster_csv import export_roster_csv, format_work_days, parse_roster_csv

T = TypeVar("T")

#: The columns of ``schedule show --format csv|json``.
PLAN_COLUMNS = (
    "week_start",
    "station",
    "name",
    "time_zone",
    "go_live_date",
    "pulled",
    "opens_at",
    "retires_at",
)


# --- plumbing --------------------------------------------------------------------------------------


def window_settings(settings: Settings) -> WindowSettings:
    return WindowSettings(
        open_hour=settings.window_open_hour,
        window_days=settings.window_days,
        retire_hour=settings.window_retire_hour,
    )


def _run(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open (and create or migrate) the database, run ``work`` with a store, close the engine."""

    async def main() -> T:
        try:
            engine = create_engine(settings.database_url)
        except DatabaseUrlError as error:
            raise CliError(f"GOLIVE_DATABASE_URL: {error}") from None
        try:
            await migrate(engine)
            return await work(Store(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a CSV file") from None
    except OSError as error:
        raise CliError(f"{path}: cannot be read ({error.strerror or error})") from None


def _print_line_errors(path: str, error: CsvImportError) -> None:
    print(f"{path}: {len(error.errors)} problem(s); nothing was imported", file=sys.stderr)
    for line_error in error.errors:
        print(str(line_error), file=sys.stderr)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def effective_import(stored: RolloutPlan, imported: RolloutPlan) -> RolloutPlan:
    """The plan an import leaves behind: the file's sites, plus stored stations it lacks, pulled
    (``records.save_plan`` never deletes a site, so its channel can still be cancelled)."""
    kept = imported.by_station()
    missing = [
        entry if entry.pulled else replace(entry, pulled=True)
        for station, entry in stored.by_station().items()
        if station not in kept
    ]
    return RolloutPlan((*imported.entries, *missing))


# --- schedule --------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings()
    data = _read_file(args.file)
    try:
        imported = parse_rollout_csv(data)
    except CsvImportError as error:
        _print_line_errors(args.file, error)
        return 1
    actor = args.actor or "cli"

    async def work(store: Store) -> tuple[RolloutPlan, list[str]]:
        async with store.write() as connection:
            stored = await records.load_plan(connection)
            new = effective_import(stored, imported)
            changes = diff(stored, new)
            if not args.dry_run:
                now = datetime.now(UTC)
                await records.save_plan(connection, new, now)
                summary = f"imported {args.file}: {len(imported)} sites in {len(imported.weeks())} weeks"
                detail = "\n".join([summary, *changes]) if changes else f"{summary} (no changes)"
                await records.audit(connection, now, actor, "plan.import", detail)
            return new, changes

    new, changes = _run(settings, work)
    if args.dry_run:
        print(f"Dry run of {args.file}: nothing was changed.")
    else:
        print(
            f"Imported {args.file}: {len(imported)} sites in {len(imported.weeks())} weeks "
            f"({len(new.active())} sites planned in all)."
        )
    if changes:
        print(f"{len(changes)} change(s){' would be made' if args.dry_run else ''}:")
        for change in changes:
            print(f"  {change}")
    else:
        print("No changes to the stored plan.")
    return 0


async def _load_plan(store: Store) -> RolloutPlan:
    async with store.read() as connection:
        return await records.load_plan(connection)


def plan_rows(plan: RolloutPlan, window: WindowSettings) -> list[dict[str, Any]]:
    """One dict per entry (pulled ones included), the shape of ``schedule show --format json``."""
    rows = []
    for entry in plan.entries:
        opened = None if entry.pulled else window_for(entry, window)
        rows.append(
            {
                "week_start": entry.week_start.isoformat(),
                "station": entry.station,
                "name": entry.name,
                "time_zone": entry.time_zone,
                "go_live_date": entry.go_live_date.isoformat(),
                "pulled": entry.pulled,
                "opens_at": _iso(opened.opens_at) if opened else None,
                "retires_at": _iso(opened.retires_at) if opened else None,
            }
        )
    return rows


def cmd_show(args: argparse.Namespace) -> int:
    settings = _settings()
    plan = _run(settings, _load_plan)
    rows = plan_rows(plan, window_settings(settings))
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, PLAN_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "pulled": "yes" if row["pulled"] else "no"})
        sys.stdout.write(out.getvalue())
        return 0
    if not rows:
        print("The rollout plan is empty (golive schedule import FILE).")
        return 0
    table = [
        [
            row["week_start"],
            row["station"],
            row["name"],
            row["time_zone"],
            row["go_live_date"],
            "yes" if row["pulled"] else "",
            row["opens_at"] or "",
            row["retires_at"] or "",
        ]
        for row in rows
    ]
    headers = ["week", "station", "name", "time zone", "go-live", "pulled", "opens (UTC)", "retires (UTC)"]
    print(_table(headers, table))
    active = plan.active()
    print(f"\n{len(active)} sites planned in {len(plan.weeks())} weeks; {len(plan) - len(active)} pulled.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings()
    text = export_rollout_csv(_run(settings, _load_plan))
    if args.out in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"{args.out}: cannot be written ({error.strerror or error})") from None
    print(f"Wrote {max(0, text.count(chr(10)) - 1)} sites to {args.out}", file=sys.stderr)
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    settings = _settings()
    plan = _run(settings, _load_plan)
    actions = preview(plan, window_settings(settings), args.start, args.end)
    if args.format == "json":
        print(preview_json(actions))
        return 0
    if not actions:
        print(f"No channel actions from {_iso(args.start)} to {_iso(args.end)}.")
        return 0
    zones = {entry.station: entry.time_zone for entry in plan.entries}
    table = [
        [
            _iso(action.at) or "",
            action.action,
            action.station,
            action.name,
            f"{action.at.astimezone(zone(zones[action.station])):%a %Y-%m-%d %H:%M %Z}",
        ]
        for action in actions
    ]
    print(_table(["at (UTC)", "action", "station", "name", "site local time"], table))
    return 0


# --- roster ----------------------------------------------------------------------------------------


async def _load_roster(store: Store) -> DutyRoster | None:
    async with store.read() as connection:
        return await records.load_roster(store, connection)


def roster_changes(old: DutyRoster | None, new: DutyRoster) -> list[str]:
    """What a roster import changes: engineers added, removed or edited, weeks added, removed or edited."""
    changes: list[str] = []
    before = dict(old.engineers) if old else {}
    for key in sorted(before.keys() | new.engineers.keys()):
        was, now = before.get(key), new.engineers.get(key)
        if was is None:
            changes.append(f"added engineer {key} ({now.name}, {now.time_zone})")
        elif now is None:
            changes.append(f"removed engineer {key} ({was.name})")
        elif was != now:
            changes.append(f"changed engineer {key} ({now.name})")
    old_weeks = {week.week_start: week for week in old.weeks} if old else {}
    new_weeks = {week.week_start: week for week in new.weeks}
    for start in sorted(old_weeks.keys() | new_weeks.keys()):
        was, now = old_weeks.get(start), new_weeks.get(start)
        if was is None:
            changes.append(f"added week {start.isoformat()}: primary {now.primary}, backup {now.backup}")
        elif now is None:
            changes.append(f"removed week {start.isoformat()}")
        elif was != now:
            changes.append(f"changed week {start.isoformat()}: primary {now.primary}, backup {now.backup}")
    return changes


def cmd_roster_import(args: argparse.Namespace) -> int:
    settings = _settings()
    data = _read_file(args.file)
    try:
        roster = parse_roster_csv(data)
    except CsvImportError as error:
        _print_line_errors(args.file, error)
        return 1
    actor = args.actor or "cli"

    async def work(store: Store) -> list[str]:
        async with store.write() as connection:
            stored = await records.load_roster(store, connection)
            changes = roster_changes(stored, roster)
            if not args.dry_run:
                now = datetime.now(UTC)
                await records.save_roster_csv(store, connection, export_roster_csv(roster), now)
                summary = (
                    f"imported {args.file}: {len(roster.engineers)} engineers, {len(roster.weeks)} weeks"
                )
                detail = "\n".join([summary, *changes]) if changes else f"{summary} (no changes)"
                await records.audit(connection, now, actor, "roster.import", detail)
            return changes

    changes = _run(settings, work)
    if args.dry_run:
        print(f"Dry run of {args.file}: nothing was changed.")
    else:
        print(f"Imported {args.file}: {len(roster.engineers)} engineers, {len(roster.weeks)} roster weeks.")
    if changes:
        print(f"{len(changes)} change(s){' would be made' if args.dry_run else ''}:")
        for change in changes:
            print(f"  {change}")
    else:
        print("No changes to the stored roster.")
    return 0


def cmd_roster_sync(args: argparse.Namespace) -> int:
    """``golive roster sync --from pagerduty``: 0 applied (or nothing to change), 1 refused (each
    unknown person or broken rule printed, nothing applied) or PagerDuty failed, 2 not configured."""
    from bot.bridge.roster_sync import RosterSync, SyncWindowError
    from bot.clock import Clock, SimulatedClock, SystemClock
    from bot.integrations import pagerduty_roster

    settings = _settings()
    source = pagerduty_roster(settings)
    if source is None:
        raise CliError(
            "PagerDuty is not configured: set GOLIVE_PAGERDUTY_TOKEN and GOLIVE_PAGERDUTY_SCHEDULE_IDS "
            "(the primary schedule id, then the backup schedule id)"
        )
    clock: Clock = SystemClock()
    if settings.development and settings.simulated_now is not None:
        start = settings.simulated_now
        clock = SimulatedClock(start if start.tzinfo else start.replace(tzinfo=UTC))
    primary, backup = settings.pagerduty_schedules

    async def work(store: Store):
        try:
            sync = RosterSync(store, clock, source, (primary, backup))
            return await sync.run(since=args.since, until=args.until, dry_run=args.dry_run, actor=args.actor)
        finally:
            await source.close()

    try:
        result = _run(settings, work)
    except SyncWindowError as error:
        raise CliError(str(error)) from None
    stream = sys.stdout if result.ok else sys.stderr
    for line in result.lines():
        print(line, file=stream)
    return 0 if result.ok else 1


def _no_roster() -> int:
    print("No duty roster has been imported (golive roster import FILE).", file=sys.stderr)
    return 1


def cmd_roster_show(args: argparse.Namespace) -> int:
    roster = _run(_settings(), _load_roster)
    if roster is None:
        return _no_roster()
    engineers = [
        [
            e.key,
            e.name,
            e.time_zone,
            f"{e.work_start:%H:%M}-{e.work_end:%H:%M}",
            format_work_days(e.work_days),
            "yes" if e.production_access else "no",
            e.servicenow_user,
        ]
        for e in roster.engineers.values()
    ]
    print(
        _table(
            ["engineer", "name", "time zone", "hours", "days", "prod access", "ServiceNow user"], engineers
        )
    )
    print()
    weeks = [
        [
            week.week_start.isoformat(),
            week.primary,
            week.backup,
            ", ".join(f"{day:%a %m-%d} {key}" for day, key in week.fallback.items()),
            ", ".join(week.observers),
        ]
        for week in roster.weeks
    ]
    print(_table(["week", "primary", "backup", "fallback", "observers"], weeks))
    return 0


def duty_json(roster: DutyRoster, at: datetime) -> dict[str, Any]:
    """Who is on duty at ``at``: the shape of ``golive roster duty --format json``."""
    duty = duty_at(roster, at)

    def person(engineer) -> dict[str, Any] | None:
        if engineer is None:
            return None
        return {
            "key": engineer.key,
            "name": engineer.name,
            "time_zone": engineer.time_zone,
            "working": is_working(engineer, at),
        }

    assignee = pick_assignee(duty, at)
    return {
        "at": _iso(at),
        "week_start": duty.week_start.isoformat() if duty.week_start else None,
        "primary": person(duty.primary),
        "backup": person(duty.backup),
        "fallback": person(duty.fallback),
        "observers": [person(observer) for observer in duty.observers],
        "assignee": assignee.key if assignee else None,
    }


def cmd_roster_duty(args: argparse.Namespace) -> int:
    roster = _run(_settings(), _load_roster)
    if roster is None:
        return _no_roster()
    at = args.at or datetime.now(UTC)
    duty = duty_json(roster, at)
    if args.format == "json":
        print(json.dumps(duty, indent=2, ensure_ascii=False))
        return 0
    print(f"On duty at {duty['at']}" + (f" (roster week {duty['week_start']})" if duty["week_start"] else ""))
    if duty["week_start"] is None:
        print("  nobody: no roster week is in force")
        return 0
    for role in ("primary", "backup", "fallback"):
        who = duty[role]
        if who is not None:
            state = "working now" if who["working"] else "off hours"
            print(f"  {role:<9} {who['name']} ({who['time_zone']}, {state})")
    for observer in duty["observers"]:
        print(f"  observer  {observer['name']}")
    print(f"  an inquiry now goes to: {duty['assignee'] or 'nobody is working; it waits in the queue'}")
    return 0
