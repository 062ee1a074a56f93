"""``golive schedule ...`` and ``golive roster ...``: the plan and the duty roster from the command line.

Each ``cmd_*`` takes the argparse namespace built in ``bot.cli`` and returns the exit code:
0 success, 1 the file has bad rows or the import was refused (or there is nothing to show), 2 bad
usage or configuration (an unreadable file, an unsupported database URL). User errors are printed
without a traceback.

The database comes from ``--state-dir DIR`` (``DIR/golive.db``) or ``GOLIVE_DATABASE_URL``
(``bot.cli_database``: created or migrated on first use, with a warning when it is new or empty).
Imports are all-or-nothing: the file is parsed completely before the database is opened, so a file
with any bad row changes nothing.

``schedule import`` merges by default: the file's sites are added or updated and the others stay as
they are. ``--replace`` makes the plan exactly the file (stations missing from it are pulled, never
deleted) and refuses, naming each site, when that would pull a site whose go-live channel is open,
unless ``--force``. ``--dry-run`` prints one line per change and changes nothing. The rules live in
``bot.bridge.plan_changes``, shared with the HTTP API and the chat commands.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot import cli_database
from bot.bridge import records
from bot.bridge.plan_changes import (
    ImportMode,
    ImportResult,
    OpenSitesPulled,
    PlanRules,
    Proposal,
    import_plan,
    load_state,
    plan_rows,
)
from bot.cli import CliError, _settings
from bot.settings import Settings
from bot.shared_clock import stored_clock
from bot.storage.store import Store
from schedule.csvio import export_rollout_csv, parse_rollout_csv
from schedule.errors import CsvImportError
from schedule.localtime import zone
from schedule.plan import RolloutPlan, WindowSettings
from schedule.preview import preview, preview_json
from schedule.reconciler import ChannelState
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
    "status",
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


def _run(args: argparse.Namespace, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the command's database (``--state-dir`` or ``GOLIVE_DATABASE_URL``), run ``work``, close."""
    return cli_database.run(_settings(), getattr(args, "state_dir", None), work)


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


# --- schedule --------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    settings = _settings()
    data = _read_file(args.file)
    try:
        imported = parse_rollout_csv(data)
    except CsvImportError as error:
        _print_line_errors(args.file, error)
        return 1
    mode: ImportMode = "replace" if args.replace else "merge"
    if args.force and not args.replace:
        print("golive: --force only matters with --replace (a merge never pulls a site)", file=sys.stderr)

    async def work(store: Store) -> ImportResult:
        now = (await stored_clock(store)).now()
        return await import_plan(
            store,
            imported,
            mode=mode,
            force=args.force,
            dry_run=args.dry_run,
            actor=args.actor or "cli",
            source=Path(args.file).name,
            now=now,
            rules=PlanRules(window_settings(settings), settings.channel_name_template),
        )

    try:
        result = _run(args, work)
    except OpenSitesPulled as refusal:
        if args.dry_run:
            _print_changes(refusal.proposal, dry_run=True)
        sites = refusal.sites
        print(
            f"{args.file}: --replace would pull {len(sites)} site(s) whose go-live channel is open; "
            "nothing was changed:",
            file=sys.stderr,
        )
        for site in sites:
            print(f"  {site}", file=sys.stderr)
        print("Use --force to pull them anyway (their channels will be archived).", file=sys.stderr)
        return 1
    proposal = result.proposal
    if args.dry_run:
        print(f"Dry run of {args.file} ({mode}): nothing was changed.")
    else:
        print(
            f"Imported {args.file} ({mode}): {len(imported)} sites in the file; "
            f"{len(proposal.new.active())} sites planned in all."
        )
    _print_changes(proposal, dry_run=args.dry_run)
    return 0


def _print_changes(proposal: Proposal, *, dry_run: bool) -> None:
    if not proposal.changes:
        print("No changes to the stored plan.")
        return
    print(f"{len(proposal.changes)} change(s){' would be made' if dry_run else ''}:")
    for line in proposal.lines:
        print(f"  {line}")
    if proposal.channel_lines:
        print("Go-live channels:")
        for line in proposal.channel_lines:
            print(f"  {line}")


async def _load_plan(store: Store) -> RolloutPlan:
    async with store.read() as connection:
        return await records.load_plan(connection)


async def _load_plan_and_channels(store: Store) -> tuple[RolloutPlan, dict[str, ChannelState]]:
    async with store.read() as connection:
        return await load_state(connection)


def cmd_show(args: argparse.Namespace) -> int:
    settings = _settings()
    plan, states = _run(args, _load_plan_and_channels)
    rows = plan_rows(plan, window_settings(settings), states)
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
            row["status"],
            row["opens_at"] or "",
            row["retires_at"] or "",
        ]
        for row in rows
    ]
    headers = ["week", "station", "name", "time zone", "go-live", "status", "opens (UTC)", "retires (UTC)"]
    print(_table(headers, table))
    active = plan.active()
    print(f"\n{len(active)} sites planned in {len(plan.weeks())} weeks; {len(plan) - len(active)} pulled.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    text = export_rollout_csv(_run(args, _load_plan))
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
    plan = _run(args, _load_plan)
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
        old_engineer, new_engineer = before.get(key), new.engineers.get(key)
        if new_engineer is None:
            assert old_engineer is not None
            changes.append(f"removed engineer {key} ({old_engineer.name})")
        elif old_engineer is None:
            changes.append(f"added engineer {key} ({new_engineer.name}, {new_engineer.time_zone})")
        elif old_engineer != new_engineer:
            changes.append(f"changed engineer {key} ({new_engineer.name})")
    old_weeks = {week.week_start: week for week in old.weeks} if old else {}
    new_weeks = {week.week_start: week for week in new.weeks}
    for start in sorted(old_weeks.keys() | new_weeks.keys()):
        old_week, new_week = old_weeks.get(start), new_weeks.get(start)
        if new_week is None:
            changes.append(f"removed week {start.isoformat()}")
        elif old_week is None:
            changes.append(
                f"added week {start.isoformat()}: primary {new_week.primary}, backup {new_week.backup}"
            )
        elif old_week != new_week:
            changes.append(
                f"changed week {start.isoformat()}: primary {new_week.primary}, backup {new_week.backup}"
            )
    return changes


def cmd_roster_import(args: argparse.Namespace) -> int:
    data = _read_file(args.file)
    try:
        roster = parse_roster_csv(data)
    except CsvImportError as error:
        _print_line_errors(args.file, error)
        return 1
    actor = args.actor or "cli"

    async def work(store: Store) -> list[str]:
        now = (await stored_clock(store)).now()
        async with store.write() as connection:
            stored = await records.load_roster(store, connection)
            changes = roster_changes(stored, roster)
            if not args.dry_run:
                await records.save_roster_csv(store, connection, export_roster_csv(roster), now)
                summary = (
                    f"imported {args.file}: {len(roster.engineers)} engineers, {len(roster.weeks)} weeks"
                )
                detail = "\n".join([summary, *changes]) if changes else f"{summary} (no changes)"
                await records.audit(connection, now, actor, "roster.import", detail)
            return changes

    changes = _run(args, work)
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
    primary, backup = settings.pagerduty_schedules

    async def work(store: Store):
        try:
            # The clock the bot keeps in this database; else GOLIVE_SIMULATED_NOW (development).
            clock: Clock = await stored_clock(store)
            if isinstance(clock, SystemClock) and settings.development and settings.simulated_now is not None:
                start = settings.simulated_now
                clock = SimulatedClock(start if start.tzinfo else start.replace(tzinfo=UTC))
            sync = RosterSync(store, clock, source, (primary, backup))
            return await sync.run(since=args.since, until=args.until, dry_run=args.dry_run, actor=args.actor)
        finally:
            await source.close()

    try:
        result = _run(args, work)
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
    roster = _run(args, _load_roster)
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
    async def work(store: Store) -> tuple[DutyRoster | None, datetime]:
        return await _load_roster(store), (await stored_clock(store)).now()

    roster, now = _run(args, work)
    if roster is None:
        return _no_roster()
    at = args.at or now
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
