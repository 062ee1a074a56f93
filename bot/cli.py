"""``golive``: the command line (docs/CONTRACTS.md section 2 is its public contract).

Exit codes: 0 success, 1 a check or import found problems, 2 bad usage or configuration, a
refused backup or restore, or a database schema newer than this release (``SchemaTooNew``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.logs import LogFormat, configure_logging

if TYPE_CHECKING:  # the settings module is imported lazily, so `golive --help` stays fast
    from bot.settings import Settings

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"GOLIVE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise CliError(f"invalid settings: {problems}") from None


# --- serve / sandbox / emulate ---------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.settings import ConfigurationError

    overrides: dict[str, Any] = {}
    if args.port is not None:
        overrides["port"] = args.port
    if args.host is not None:
        overrides["host"] = args.host
    settings = _settings(**overrides)
    try:
        settings.check_can_serve()
    except ConfigurationError as error:
        print(f"golive serve: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.effective_log_format)
    from bot.app import create_app

    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import SandboxOptions, run_sandbox

    # A person watches the sandbox's terminal: text lines unless GOLIVE_LOG_FORMAT says otherwise.
    configure_logging("INFO", _settings().log_format or LogFormat.TEXT)
    options = SandboxOptions(
        port=args.port,
        servicenow_port=args.servicenow_port,
        teams_port=args.teams_port,
        slack_port=args.slack_port,
        state_dir=Path(args.state_dir),
        now=args.now,
        speed=args.speed,
        host=args.host,
        pagerduty_port=args.pagerduty_port,
        github_port=args.github_port,
        jira_port=args.jira_port,
    )
    asyncio.run(run_sandbox(options))
    return 0


def cmd_emulate_servicenow(args: argparse.Namespace) -> int:
    from emulators.servicenow import EmulatorConfig, run_servicenow_emulator
    from emulators.servicenow.config import DEFAULT_LOGINS

    settings = _settings()
    configure_logging("INFO", settings.log_format or LogFormat.TEXT)
    logins = dict(DEFAULT_LOGINS)
    logins.pop("admin", None)
    logins[args.user] = args.password
    integration_password = settings.servicenow_password.get_secret_value()
    if integration_password:
        logins[settings.servicenow_user] = integration_password
    config = EmulatorConfig(
        logins=logins,
        tier2_group=settings.tier2_group,
        product_group=settings.product_group,
        state_dir=Path(args.state_dir) if args.state_dir else None,
        integration_user=settings.servicenow_user,
        engineers=_roster_engineers(),
        people=_tenant_people(),
    )
    print(
        f"ServiceNow emulator: http://{args.host}:{args.port}/ (Table API under /api/now/table/)", flush=True
    )
    asyncio.run(_serve_forever(run_servicenow_emulator(args.host, args.port, config)))
    return 0


def cmd_emulate_teams(args: argparse.Namespace) -> int:
    from emulators.teams import TeamsEmulatorConfig, run_teams_emulator

    settings = _settings()
    configure_logging("INFO", settings.log_format or LogFormat.TEXT)
    config = TeamsEmulatorConfig(
        bot_url=args.bot_url,
        public_url=f"http://{args.host}:{args.port}/",
        bot_app_id=settings.microsoft_app_id or None,
        state_dir=Path(args.state_dir) if args.state_dir else None,
    )
    if settings.team_id:
        config = dataclasses.replace(config, team_id=settings.team_id)
    print(
        f"Teams emulator: http://{args.host}:{args.port}/ (bot at {args.bot_url}); "
        f"Go Live team id {config.team_id} (GOLIVE_TEAM_ID)",
        flush=True,
    )
    asyncio.run(_serve_forever(run_teams_emulator(args.host, args.port, config)))
    return 0


def cmd_emulate_slack(args: argparse.Namespace) -> int:
    import os

    from emulators.slack import (
        DEV_BOT_TOKEN,
        DEV_SIGNING_SECRET,
        Person,
        SlackEmulatorConfig,
        run_slack_emulator,
    )
    from emulators.slack.config import sample_people
    from schedule.sample import sample_roster

    configure_logging("INFO")
    staff = tuple(p for p in sample_people() if p.role != "engineer")
    engineers = tuple(
        Person(e.name, e.email, "engineer") for e in sample_roster().engineers.values() if e.email
    )
    config = SlackEmulatorConfig(
        bot_url=args.bot_url,
        public_url=f"http://{args.host}:{args.port}/",
        signing_secret=os.environ.get("GOLIVE_SLACK_SIGNING_SECRET") or DEV_SIGNING_SECRET,
        bot_token=os.environ.get("GOLIVE_SLACK_BOT_TOKEN") or DEV_BOT_TOKEN,
        people=staff + engineers,
        state_dir=Path(args.state_dir) if args.state_dir else None,
    )
    print(
        f"Slack emulator: http://{args.host}:{args.port}/ (Web API at /api/, bot at {args.bot_url}); "
        f"GOLIVE_SLACK_API_URL=http://{args.host}:{args.port}/api/",
        flush=True,
    )
    asyncio.run(_serve_forever(run_slack_emulator(args.host, args.port, config)))
    return 0


def cmd_emulate_integration(args: argparse.Namespace) -> int:
    """``golive emulate pagerduty|github|jira``: credentials from the GOLIVE_* variables, else dev defaults."""
    import os

    configure_logging("INFO")
    state_dir = Path(args.state_dir) if args.state_dir else None
    env = os.environ.get
    if args.emulator == "pagerduty":
        from emulators import pagerduty

        pd_config = pagerduty.PagerDutyEmulatorConfig(
            tokens=(env("GOLIVE_PAGERDUTY_TOKEN") or pagerduty.DEFAULT_TOKEN,), state_dir=state_dir
        )
        what = "PagerDuty REST API v2"
        serving = pagerduty.run_pagerduty_emulator(args.host, args.port, pd_config)
    elif args.emulator == "github":
        from emulators import github

        repo = env("GOLIVE_GITHUB_REPO") or github.DEFAULT_REPO
        gh_config = github.GitHubEmulatorConfig(
            tokens={env("GOLIVE_GITHUB_TOKEN") or github.DEFAULT_TOKEN: github.BOT_LOGIN},
            repos=github.sample_repos(repo),
            state_dir=state_dir,
        )
        what = f"GitHub (repository {repo})"
        serving = github.run_github_emulator(args.host, args.port, gh_config)
    else:
        from emulators import jira

        jira_config = jira.config_for_account(
            env("GOLIVE_JIRA_USER") or jira.BOT_EMAIL,
            env("GOLIVE_JIRA_TOKEN") or jira.DEFAULT_API_TOKEN,
            env("GOLIVE_JIRA_PROJECT") or jira.DEFAULT_PROJECT,
            state_dir,
        )
        what = "Jira Cloud REST v3"
        serving = jira.run_jira_emulator(args.host, args.port, jira_config)
    print(f"{what} emulator: http://{args.host}:{args.port}/ (driver API under /_emulator/)", flush=True)
    asyncio.run(_serve_forever(serving))
    return 0


def _roster_engineers() -> tuple[tuple[str, str, str], ...]:
    from schedule.sample import sample_roster

    return tuple(
        (e.servicenow_user, e.name, e.email or f"{e.servicenow_user}@example.va.gov")
        for e in sample_roster().engineers.values()
    )


def _tenant_people() -> tuple[object, ...]:
    """The people of the sandbox's Teams tenant (with e-mails), so a poster is a sys_user."""
    from bot.sandbox import sandbox_people
    from schedule.sample import sample_roster

    return sandbox_people(sample_roster())


async def _serve_forever(awaitable: Coroutine[Any, Any, object]) -> None:
    try:
        await awaitable
    except asyncio.CancelledError:
        pass


# --- backup / restore ------------------------------------------------------------------------------


def _sqlite_database(args: argparse.Namespace, command: str) -> Path:
    """The SQLite file ``--state-dir DIR`` names (``DIR/golive.db``), else ``GOLIVE_DATABASE_URL``'s."""
    if args.state_dir:
        return Path(args.state_dir) / "golive.db"
    from sqlalchemy.engine import make_url

    url = make_url(_settings().database_url)
    if url.get_backend_name() != "sqlite":
        raise CliError(
            f"golive {command} works on SQLite; GOLIVE_DATABASE_URL is {url.get_backend_name()}: "
            "use pg_dump and pg_restore (README, Backup and restore)"
        )
    if not url.database or url.database == ":memory:":
        raise CliError(f"golive {command}: GOLIVE_DATABASE_URL names no database file")
    return Path(url.database).expanduser()


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup_database

    database = _sqlite_database(args, "backup")
    try:
        copied = backup_database(database, Path(args.out))
    except BackupError as error:
        raise CliError(str(error)) from None
    print(f"{database} backed up to {copied.path} (schema revision {copied.revision}, {copied.size} bytes)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, restore_database
    from bot.storage.database import head_revision

    database = _sqlite_database(args, "restore")
    try:
        copied = restore_database(Path(args.file), database)
    except BackupError as error:
        raise CliError(str(error)) from None
    later = "" if copied.revision == head_revision() else f"; migrated to {head_revision()} at the next start"
    print(f"{database} restored from {args.file} (schema revision {copied.revision}{later})")
    return 0


# --- commands implemented in their own modules -----------------------------------------------------


def _delegate(module: str, function: str) -> Handler:
    def run(args: argparse.Namespace) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(module), function)
        return handler(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="golive", description="Go Live Bridge: Teams go-live channels bridged to ServiceNow incidents."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sandbox = sub.add_parser("sandbox", help="run the bot with both emulators and sample data on loopback")
    sandbox.add_argument("--port", type=int, default=3978)
    sandbox.add_argument("--servicenow-port", type=int, default=3979)
    sandbox.add_argument("--teams-port", type=int, default=3980)
    sandbox.add_argument("--slack-port", type=int, default=3981)
    sandbox.add_argument("--pagerduty-port", type=int, default=3983)
    sandbox.add_argument("--github-port", type=int, default=3984)
    sandbox.add_argument("--jira-port", type=int, default=3985)
    sandbox.add_argument("--state-dir", default=".sandbox")
    sandbox.add_argument(
        "--now", type=_instant, default=None, help="start the simulated clock at this instant"
    )
    sandbox.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.set_defaults(handler=cmd_sandbox)

    serve = sub.add_parser("serve", help="run the bot (production; settings from the environment / .env)")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--host", default=None)
    serve.set_defaults(handler=cmd_serve)

    emulate = sub.add_parser("emulate", help="run one emulator alone")
    emulate_sub = emulate.add_subparsers(dest="emulator", metavar="EMULATOR")
    emulate_sub.required = True
    snow = emulate_sub.add_parser("servicenow", help="the ServiceNow Table API emulator")
    snow.add_argument("--port", type=int, default=3979)
    snow.add_argument("--host", default="127.0.0.1")
    snow.add_argument("--user", default="admin")
    snow.add_argument("--password", default="admin")
    snow.add_argument("--state-dir", default=None)
    snow.set_defaults(handler=cmd_emulate_servicenow)
    teams = emulate_sub.add_parser("teams", help="the Teams emulator (Bot Connector, Graph, console)")
    teams.add_argument("--port", type=int, default=3980)
    teams.add_argument("--host", default="127.0.0.1")
    teams.add_argument("--bot-url", default="http://127.0.0.1:3978/api/messages")
    teams.add_argument("--state-dir", default=None)
    teams.set_defaults(handler=cmd_emulate_teams)
    slack = emulate_sub.add_parser("slack", help="the Slack emulator (Web API, signed events, console)")
    slack.add_argument("--port", type=int, default=3981)
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument("--bot-url", default="http://127.0.0.1:3978/slack/events")
    slack.add_argument("--state-dir", default=None)
    slack.set_defaults(handler=cmd_emulate_slack)
    for name, port, what in (
        ("pagerduty", 3983, "the PagerDuty REST API v2 emulator (on-calls, schedules, users)"),
        ("github", 3984, "the GitHub issues emulator (issues, comments, search)"),
        ("jira", 3985, "the Jira Cloud emulator (REST v3 issues and JQL search)"),
    ):
        integration = emulate_sub.add_parser(name, help=what)
        integration.add_argument("--port", type=int, default=port)
        integration.add_argument("--host", default="127.0.0.1")
        integration.add_argument("--state-dir", default=None)
        integration.set_defaults(handler=cmd_emulate_integration)

    # The commands that read or change the product's database: --state-dir DIR reads DIR/golive.db.
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="read DIR/golive.db (a sandbox's state) instead of GOLIVE_DATABASE_URL",
    )

    schedule = sub.add_parser("schedule", help="the rollout plan")
    schedule_sub = schedule.add_subparsers(dest="action", metavar="ACTION")
    schedule_sub.required = True
    imp = schedule_sub.add_parser(
        "import", parents=[state], help="merge a rollout CSV into the plan (all or nothing)"
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="print one line per change, change nothing")
    imp.add_argument("--replace", action="store_true", help="make the plan exactly the file")
    imp.add_argument("--force", action="store_true", help="with --replace: pull sites whose channel is open")
    imp.add_argument("--actor", default="cli")
    imp.set_defaults(handler=_delegate("bot.plan_cli", "cmd_import"))
    show = schedule_sub.add_parser("show", parents=[state], help="print the plan")
    show.add_argument("--format", choices=["table", "json", "csv"], default="table")
    show.set_defaults(handler=_delegate("bot.plan_cli", "cmd_show"))
    export = schedule_sub.add_parser("export", parents=[state], help="write the plan as a rollout CSV")
    export.add_argument("--out", default="-")
    export.set_defaults(handler=_delegate("bot.plan_cli", "cmd_export"))
    preview = schedule_sub.add_parser("preview", parents=[state], help="the channel actions the plan implies")
    preview.add_argument("--from", dest="start", type=_instant, required=True)
    preview.add_argument("--to", dest="end", type=_instant, required=True)
    preview.add_argument("--format", choices=["table", "json"], default="table")
    preview.set_defaults(handler=_delegate("bot.plan_cli", "cmd_preview"))

    roster = sub.add_parser("roster", help="the duty roster")
    roster_sub = roster.add_subparsers(dest="action", metavar="ACTION")
    roster_sub.required = True
    rimp = roster_sub.add_parser(
        "import", parents=[state], help="replace the roster with a roster CSV (all or nothing)"
    )
    rimp.add_argument("file")
    rimp.add_argument("--dry-run", action="store_true")
    rimp.add_argument("--actor", default="cli")
    rimp.set_defaults(handler=_delegate("bot.plan_cli", "cmd_roster_import"))
    rshow = roster_sub.add_parser("show", parents=[state], help="print the roster")
    rshow.set_defaults(handler=_delegate("bot.plan_cli", "cmd_roster_show"))
    rduty = roster_sub.add_parser("duty", parents=[state], help="who is on duty at an instant")
    rduty.add_argument("--at", type=_instant, default=None)
    rduty.add_argument("--format", choices=["table", "json"], default="table")
    rduty.set_defaults(handler=_delegate("bot.plan_cli", "cmd_roster_duty"))
    rsync = roster_sub.add_parser(
        "sync", help="apply the on-call rota of PagerDuty's primary and backup schedules (all or nothing)"
    )
    rsync.add_argument("--from", dest="source", choices=["pagerduty"], required=True)
    rsync.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    rsync.add_argument("--since", type=_instant, default=None, help="default: this week's Monday")
    rsync.add_argument("--until", type=_instant, default=None, help="default: 4 weeks after --since")
    rsync.add_argument("--actor", default="cli")
    rsync.set_defaults(handler=_delegate("bot.plan_cli", "cmd_roster_sync"))

    report = sub.add_parser("report", help="reports")
    report_sub = report.add_subparsers(dest="report", metavar="REPORT")
    report_sub.required = True
    rotation = report_sub.add_parser("rotation", parents=[state], help="the rotation report of one week")
    rotation.add_argument("--week", required=True, help="the week's Monday, YYYY-MM-DD")
    rotation.add_argument("--format", choices=["md", "csv", "json"], default="md")
    rotation.set_defaults(handler=_delegate("bot.reporting.cli", "cmd_rotation"))

    audit = sub.add_parser("audit", parents=[state], help="the audit trail: who changed what, newest first")
    audit.add_argument("--since", type=_instant, default=None, help="only entries at or after this instant")
    audit.add_argument("--action", default=None, help="an action (site.pull) or a family (site.*)")
    audit.add_argument("--site", default=None, help="only entries about this station")
    audit.add_argument("--limit", type=int, default=None)
    audit.add_argument("--format", choices=["table", "json"], default="table")
    audit.set_defaults(handler=_delegate("bot.audit_cli", "cmd_audit"))

    manifest = sub.add_parser("manifest", help="the Teams app package")
    manifest_sub = manifest.add_subparsers(dest="action", metavar="ACTION")
    manifest_sub.required = True
    build = manifest_sub.add_parser("build", help="write the app package zip")
    build.add_argument("--out", required=True)
    build.set_defaults(handler=_delegate("bot.manifest_cli", "cmd_build"))

    inbox = sub.add_parser("inbox", help="dead letters: what was stored but could not be processed")
    inbox_sub = inbox.add_subparsers(dest="action", metavar="ACTION")
    inbox_sub.required = True
    dead = inbox_sub.add_parser("dead-letters", help="list the dead letters (never message text)")
    dead.add_argument("--format", choices=("table", "json"), default="table")
    dead.add_argument("--state-dir", default=None, help="read DIR/golive.db (as the sandbox keeps it)")
    dead.set_defaults(handler=_delegate("bot.inbox_cli", "cmd_dead_letters"))
    retry = inbox_sub.add_parser("retry", help="process a dead letter again (or --all)")
    retry.add_argument("id", nargs="?", default=None, help="activity-N or job-N")
    retry.add_argument("--all", action="store_true")
    retry.add_argument("--state-dir", default=None)
    retry.set_defaults(handler=_delegate("bot.inbox_cli", "cmd_retry"))
    drop = inbox_sub.add_parser("drop", help="end a dead letter for good (an event's payload is erased)")
    drop.add_argument("id", help="activity-N or job-N")
    drop.add_argument("--state-dir", default=None)
    drop.set_defaults(handler=_delegate("bot.inbox_cli", "cmd_drop"))

    backup = sub.add_parser("backup", help="copy the SQLite database consistently, even while the bot runs")
    backup.add_argument("--out", required=True, help="the backup file to write")
    backup.add_argument(
        "--state-dir", default=None, help="the database DIR/golive.db (as the sandbox keeps it)"
    )
    backup.set_defaults(handler=cmd_backup)
    restore = sub.add_parser(
        "restore", help="replace the SQLite database with a backup (the bot must be stopped)"
    )
    restore.add_argument("file", help="a backup written by golive backup")
    restore.add_argument(
        "--state-dir", default=None, help="the database DIR/golive.db (as the sandbox keeps it)"
    )
    restore.set_defaults(handler=cmd_restore)

    purge = sub.add_parser(
        "purge", help="erase message text past GOLIVE_RETENTION_DAYS now (counts, never text)"
    )
    purge.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
    purge.add_argument(
        "--state-dir", default=None, help="the database DIR/golive.db (as the sandbox keeps it)"
    )
    purge.set_defaults(handler=_delegate("bot.retention_cli", "cmd_purge"))

    from bot.alerts_cli import add_parser as add_alerts_parser

    add_alerts_parser(sub, _delegate)

    check = sub.add_parser("check", help="check settings and connectivity")
    check.set_defaults(handler=_delegate("bot.check", "cmd_check"))
    return parser


def _schema_too_new(error: BaseException) -> bool:
    # Only a command that opened the database can raise it, so the module is loaded by then.
    database = sys.modules.get("bot.storage.database")
    return database is not None and isinstance(error, database.SchemaTooNew)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CliError as error:
        print(f"golive: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if not _schema_too_new(error):
            raise
        print(f"golive: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``golive schedule show | head``); nothing more to say.
        sys.stderr.close()
        return 0


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    logging.basicConfig()
    raise SystemExit(main())
