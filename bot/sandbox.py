"""``golive sandbox``: the bot, the Teams emulator, the ServiceNow emulator and the Slack emulator on
loopback, with the sample rollout plan and roster loaded when the database is empty, and an optional
simulated clock.

The PagerDuty, GitHub and Jira emulators run beside them and the bot's settings point at them (a
URL, token or other setting of theirs set in the environment wins, so a check can put its own
server in place of one). At start the roster is synced from PagerDuty once (the leader repeats it
hourly), and follow-up issues go to the GitHub emulator unless ``GOLIVE_FOLLOWUP_TRACKER=jira``.

Everything it keeps lives under ``--state-dir`` (``golive.db`` is the bot's database). It is
complete for a delivery manager: the emulated tenant's ``manager`` (Morgan Manager) is a delivery
manager (``GOLIVE_MANAGER_AAD_IDS``), the team has a "Go Live Management" channel
(``GOLIVE_MANAGEMENT_CHANNEL_ID``) where the rotation report card is posted at the end of each
simulated week, and the plan API answers the sandbox token (``GOLIVE_API_TOKENS``, unless set).
An integration's URL or secret set in the environment wins over the sandbox's own
(``GOLIVE_SLACK_API_URL``, ``GOLIVE_SLACK_SIGNING_SECRET``, ``GOLIVE_SLACK_BOT_TOKEN``...), so a check
can put its own server or secret in place of an emulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot import sandbox_alerts
from bot.alerts.development import DEVELOPMENT_SECRETS
from bot.alerts_cli import secret_for
from bot.app import RUNTIME, Overrides, create_app
from bot.bridge import records
from bot.clock import SimulatedClock
from bot.settings import Environment, Settings
from bot.shared_clock import share_clock_at
from bot.storage import tables
from bot.storage.database import create_engine, migrate
from bot.storage.store import Store
from emulators import github, jira, pagerduty
from emulators.pagerduty.config import BACKUP_SCHEDULE_ID, PRIMARY_SCHEDULE_ID
from emulators.servicenow import (
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    EmulatorConfig,
    create_servicenow_emulator,
)
from emulators.slack import DEV_BOT_TOKEN, DEV_SIGNING_SECRET, SlackEmulatorConfig, create_slack_emulator
from emulators.slack import Person as SlackPerson
from emulators.slack.config import sample_people as slack_sample_people
from emulators.teams import EMULATOR, Person, TeamsEmulatorConfig, create_teams_emulator
from emulators.teams.config import ANONYMOUS_BOT_ID, DEFAULT_TENANT_ID, sample_people
from schedule.roster import DutyRoster, export_roster_csv, role_of
from schedule.sample import sample_plan, sample_roster

log = logging.getLogger(__name__)

MANAGEMENT_CHANNEL = "Go Live Management"
#: The plan API's token in the sandbox when GOLIVE_API_TOKENS is not set (loopback only).
SANDBOX_API_TOKEN = "golive-sandbox-api-token"


@dataclass(frozen=True)
class SandboxOptions:
    port: int = 3978
    servicenow_port: int = 3979
    teams_port: int = 3980
    state_dir: Path = Path(".sandbox")
    now: datetime | None = None
    speed: float = 1.0
    host: str = "127.0.0.1"
    # 0: a free port. ``golive sandbox`` passes 3981, 3983, 3984 and 3985 (its --slack-port,
    # --pagerduty-port, --github-port and --jira-port); a caller that names only the ports above
    # gets free ones here.
    slack_port: int = 0
    pagerduty_port: int = 0
    github_port: int = 0
    jira_port: int = 0


@dataclass(frozen=True)
class SandboxUrls:
    """Where the running sandbox serves (ports chosen by the system when the options said 0)."""

    bot: str
    teams: str
    servicenow: str
    slack: str = ""
    pagerduty: str = ""
    github: str = ""
    jira: str = ""


def _bind(host: str, port: int) -> socket.socket:
    """Bind now (port 0: a free port), so the port is known and held before anything is served."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def integration_settings(options: SandboxOptions) -> dict[str, Any]:
    """The PagerDuty, GitHub and Jira settings that point at the sandbox's emulators, less those
    set in the environment (which win)."""
    base = f"http://{_loopback(options.host)}"
    defaults: dict[str, Any] = {
        "pagerduty_api_url": f"{base}:{options.pagerduty_port}",
        "pagerduty_token": pagerduty.DEFAULT_TOKEN,
        "pagerduty_schedule_ids": f"{PRIMARY_SCHEDULE_ID},{BACKUP_SCHEDULE_ID}",
        "followup_tracker": "github",
        "followup_labels": "go-live,follow-up",
        "github_api_url": f"{base}:{options.github_port}",
        "github_token": github.DEFAULT_TOKEN,
        "github_repo": github.DEFAULT_REPO,
        "jira_url": f"{base}:{options.jira_port}",
        "jira_project": jira.DEFAULT_PROJECT,
        "jira_user": jira.BOT_EMAIL,
        "jira_token": jira.DEFAULT_API_TOKEN,
    }
    return {key: value for key, value in defaults.items() if f"GOLIVE_{key.upper()}" not in os.environ}


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def sandbox_alert_secrets() -> dict[str, str]:
    """The development alert secrets, except where the environment sets its own (the environment wins)."""
    names = {
        "sentry": "sentry_client_secret",
        "datadog": "datadog_webhook_token",
        "pagerduty": "pagerduty_webhook_secret",
        "bugsnag": "bugsnag_webhook_token",
    }
    return {
        setting: DEVELOPMENT_SECRETS[source]  # type: ignore[index]
        for source, setting in names.items()
        if not os.environ.get(f"GOLIVE_{setting.upper()}")
    }


def tab_sso_resource(options: SandboxOptions) -> str:
    """The sandbox app's API for the dashboard tab's sign-in (the ``aud`` of its tokens)."""
    return f"api://{options.host}:{options.port}/{ANONYMOUS_BOT_ID}"


def sandbox_settings(options: SandboxOptions, team_id: str, tenant_id: str = DEFAULT_TENANT_ID) -> Settings:
    state = options.state_dir.resolve()
    tick = max(0.5, min(15.0, 60.0 / options.speed))
    slack = slack_settings(options)
    teams = f"http://{options.host}:{options.teams_port}"
    secrets: dict[str, Any] = dict(sandbox_alert_secrets())
    return Settings(
        **secrets,
        **integration_settings(options),
        env=Environment.DEVELOPMENT,
        host=options.host,
        port=options.port,
        database_url=f"sqlite:///{state / 'golive.db'}",
        microsoft_app_id="",
        servicenow_url=f"http://{options.host}:{options.servicenow_port}",
        servicenow_user=INTEGRATION_USER,
        servicenow_password=SecretStr(INTEGRATION_PASSWORD),
        servicenow_poll_interval_s=2.0,
        graph_url=f"http://{options.host}:{options.teams_port}/v1.0",
        team_id=team_id,
        tick_seconds=tick,
        slack_bot_token=SecretStr(slack.bot_token),
        slack_signing_secret=SecretStr(slack.signing_secret),
        slack_api_url=slack.api_url,
        # The dashboard tab signs in through the emulated Teams: its SDK stand-in, its tenant's keys.
        microsoft_app_tenant_id=tenant_id,
        teams_js_url=f"{teams}/_emulator/teams-js/MicrosoftTeams.min.js",
        teams_sso_authority=teams,
        teams_sso_audiences=tab_sso_resource(options),
    )


def _email_for(name: str) -> str:
    return ".".join(name.lower().split()) + "@example.org"


def manager_settings(settings: Settings, people: tuple[Person, ...], management_channel_id: str) -> Settings:
    """The sandbox's people with the ``manager`` role are delivery managers; the management channel
    receives the report cards; the plan API answers the sandbox token unless tokens are set."""
    managers = [settings.manager_aad_ids] + [p.aad_object_id for p in people if p.role == "manager"]
    api_tokens = settings.api_tokens
    if not api_tokens.get_secret_value():
        api_tokens = SecretStr(f"sandbox:{SANDBOX_API_TOKEN}")
    return settings.model_copy(
        update={
            "manager_aad_ids": ",".join(m for m in managers if m),
            "management_channel_id": management_channel_id,
            "api_tokens": api_tokens,
        }
    )


def _from_environment(name: str, default: str) -> str:
    """The environment's value when set (it wins over the sandbox's own), else ``default``."""
    return os.environ.get(name) or default


@dataclass(frozen=True)
class SandboxSlack:
    bot_token: str
    signing_secret: str
    api_url: str


def slack_settings(options: SandboxOptions) -> SandboxSlack:
    """The bot's Slack settings: the Slack emulator's, unless the environment names others."""
    return SandboxSlack(
        bot_token=_from_environment("GOLIVE_SLACK_BOT_TOKEN", DEV_BOT_TOKEN),
        signing_secret=_from_environment("GOLIVE_SLACK_SIGNING_SECRET", DEV_SIGNING_SECRET),
        api_url=_from_environment("GOLIVE_SLACK_API_URL", f"http://{options.host}:{options.slack_port}/api/"),
    )


def slack_people(roster: DutyRoster) -> tuple[SlackPerson, ...]:
    """The Slack workspace's people: the sample site staff and manager, and the roster's engineers
    (by their e-mail, with their Slack id when the roster has one)."""
    staff = tuple(p for p in slack_sample_people() if p.role != "engineer")
    engineers = tuple(
        SlackPerson(e.name, e.email, "engineer", user_id=e.slack_user_id)
        for e in roster.engineers.values()
        if e.email
    )
    return staff + engineers


def sandbox_people(roster: DutyRoster) -> tuple[Person, ...]:
    """Everyone of the emulated tenant, each with an e-mail: the sample site staff and manager, and
    the roster's engineers. The same list seeds the ServiceNow emulator's ``sys_user`` table, so a
    poster is found there as ServiceNow would find them (by e-mail)."""
    staff = tuple(
        dataclasses.replace(p, email=p.email or _email_for(p.name))
        for p in sample_people()
        if p.role != "engineer"
    )
    engineers = tuple(
        Person(e.name, e.aad_object_id, "engineer", e.email or _email_for(e.name))
        for e in roster.engineers.values()
    )
    return staff + engineers


def roster_reader(database_url: str, fallback: DutyRoster) -> Callable[[], DutyRoster]:
    """A function that reads the roster in force from the bot's database now (so a ``swap`` or a
    roster import shows at once in the Teams emulator's ``/_emulator/people``), or ``fallback`` when
    the database cannot be read that way. It reads synchronously: the emulator asks from inside a
    request handler, and one row of a local SQLite file is read in well under a millisecond."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return lambda: fallback
    engine = sqlalchemy.create_engine(url.set(drivername="sqlite"), poolclass=sqlalchemy.pool.NullPool)
    query = select(tables.documents.c.value).where(tables.documents.c.key == records.ROSTER_DOCUMENT)

    def current() -> DutyRoster:
        try:
            with engine.connect() as connection:
                value = connection.execute(query).scalar()
        except sqlalchemy.exc.SQLAlchemyError:
            return fallback
        text = value.get("csv") if isinstance(value, dict) else None
        return records.parsed_roster(text) if text else fallback

    return current


def duty_reader(database_url: str, fallback: DutyRoster) -> Callable[[str, datetime], str | None]:
    """The Teams emulator's ``duty_for``: an engineer's role at an instant, from the current roster."""
    current = roster_reader(database_url, fallback)

    def duty_for(aad_object_id: str, at: datetime) -> str | None:
        return role_of(current(), aad_object_id, at)

    return duty_for


def slack_duty_reader(database_url: str, fallback: DutyRoster) -> Callable[[str, datetime], str | None]:
    """The Slack emulator's ``duty_for``: an engineer's role at an instant, by their e-mail."""
    current = roster_reader(database_url, fallback)

    def duty_for(email: str, at: datetime) -> str | None:
        roster = current()
        engineer = roster.engineer_by_email(email)
        return role_of(roster, engineer.aad_object_id, at) if engineer is not None else None

    return duty_for


async def seed_if_empty(settings: Settings, now: datetime) -> DutyRoster:
    """Load the sample plan and roster into an empty database; return the roster in force."""
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        store = Store(engine)
        async with store.write() as connection:
            sites = await connection.scalar(select(func.count()).select_from(tables.sites))
            if not sites:
                await records.save_plan(connection, sample_plan(), now)
                await records.audit(connection, now, "sandbox", "plan.import", "sample rollout plan loaded")
            if await records.load_roster_csv(store, connection) is None:
                await records.save_roster_csv(store, connection, export_roster_csv(sample_roster()), now)
                await records.audit(connection, now, "sandbox", "roster.import", "sample roster loaded")
            roster = await records.load_roster(store, connection)
    finally:
        await engine.dispose()
    assert roster is not None
    return roster


async def run_sandbox(options: SandboxOptions, on_ready: Callable[[SandboxUrls], None] | None = None) -> None:
    sockets = {
        name: _bind(options.host, port)
        for name, port in (
            ("bot", options.port),
            ("servicenow", options.servicenow_port),
            ("teams", options.teams_port),
            ("slack", options.slack_port),
            ("pagerduty", options.pagerduty_port),
            ("github", options.github_port),
            ("jira", options.jira_port),
        )
    }
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    options = dataclasses.replace(
        options,
        port=ports["bot"],
        servicenow_port=ports["servicenow"],
        teams_port=ports["teams"],
        slack_port=ports["slack"],
        pagerduty_port=ports["pagerduty"],
        github_port=ports["github"],
        jira_port=ports["jira"],
    )
    clock = SimulatedClock(options.now or datetime.now(UTC), options.speed)
    state = options.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    base = f"http://{options.host}"
    teams_config = TeamsEmulatorConfig(
        bot_url=f"{base}:{options.port}/api/messages",
        public_url=f"{base}:{options.teams_port}/",
        now=clock.now,
        state_dir=state / "teams",
    )
    settings = sandbox_settings(options, teams_config.team_id, teams_config.tenant_id)
    # A restarted sandbox continues the stored clock (or moves it forward to a later --now).
    await share_clock_at(settings.database_url, clock)
    roster = await seed_if_empty(settings, clock.now())
    people = sandbox_people(roster)
    teams_config = TeamsEmulatorConfig(
        bot_url=teams_config.bot_url,
        public_url=teams_config.public_url,
        now=clock.now,
        state_dir=teams_config.state_dir,
        people=people,
        duty_for=duty_reader(settings.database_url, roster),
        tab_sso_resource=tab_sso_resource(options),
        channels=(MANAGEMENT_CHANNEL,),
    )
    slack_config = SlackEmulatorConfig(
        bot_url=f"{base}:{options.port}/slack/events",
        public_url=f"{base}:{options.slack_port}/",
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        bot_token=slack_settings(options).bot_token,
        people=slack_people(roster),
        duty_for=slack_duty_reader(settings.database_url, roster),
        now=clock.now,
        state_dir=state / "slack",
    )
    teams_app = create_teams_emulator(teams_config)
    management = teams_app[EMULATOR].state.channel_named(MANAGEMENT_CHANNEL)
    assert management is not None  # the emulator creates it at start
    settings = manager_settings(settings, teams_config.people, management.id)
    servicenow_config = EmulatorConfig(
        engineers=tuple(
            (e.servicenow_user, e.name, e.email or f"{e.servicenow_user}@example.va.gov")
            for e in roster.engineers.values()
        ),
        people=people,
        tier2_group=settings.tier2_group,
        product_group=settings.product_group,
        state_dir=state / "servicenow",
        clock=clock.now,
        public_base_url=f"{base}:{options.servicenow_port}",
    )
    runners: list[web.AppRunner] = []
    bot_app = create_app(settings, Overrides(clock=clock))
    sandbox_alerts.install(
        bot_app,
        f"{base}:{options.port}",
        {source: secret_for(settings, source) for source in DEVELOPMENT_SECRETS},
    )
    try:
        for app, sock in (
            (create_servicenow_emulator(servicenow_config), sockets["servicenow"]),
            (teams_app, sockets["teams"]),
            (create_slack_emulator(slack_config), sockets["slack"]),
            *(
                (app, sockets[name])
                for name, app in integration_emulators(settings, clock.now, state).items()
            ),
            (bot_app, sockets["bot"]),
        ):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            runners.append(runner)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}:{options.teams_port}/_emulator/install", json={}) as response:
                await response.read()
        roster_line = await first_roster_sync(bot_app)
        followups = bot_app[RUNTIME].config.followup_tracker or "off"
        api_token = "from GOLIVE_API_TOKENS" if os.environ.get("GOLIVE_API_TOKENS") else SANDBOX_API_TOKEN
        managers = ", ".join(p.name for p in teams_config.people if p.role == "manager")
        print(
            "\nGo Live Bridge sandbox is running (Ctrl-C to stop)\n"
            f"  Teams console:     {base}:{options.teams_port}/\n"
            f"  Slack console:     {base}:{options.slack_port}/  (#{', #'.join(slack_config.channels)})\n"
            f"  ServiceNow queue:  {base}:{options.servicenow_port}/  (admin / admin)\n"
            f"  Bot endpoint:      {base}:{options.port}/api/messages (Slack: /slack/events)\n"
            f"  PagerDuty:         {settings.pagerduty_api_url}  ({roster_line})\n"
            f"  GitHub:            {base}:{options.github_port}/  (repository {settings.github_repo})\n"
            f"  Jira:              {base}:{options.jira_port}/  (project {settings.jira_project})\n"
            f"  Follow-up issues:  {followups}\n"
            f"  Plan API:          {base}:{options.port}/api/plan  (bearer token: {api_token})\n"
            f"  Delivery manager:  {managers} (personal chat in the console); rotation reports in "
            f"the {MANAGEMENT_CHANNEL} channel\n"
            f"  Sample alerts:     {base}:{options.port}/_sandbox/alerts  "
            f"(or golive alerts send-sample sentry|datadog|pagerduty|bugsnag --url {base}:{options.port})\n"
            f"  Simulated clock:   {clock.now():%Y-%m-%d %H:%M:%S} UTC at {options.speed:g}x\n"
            f"  State:             {state}\n",
            flush=True,
        )
        if on_ready is not None:
            on_ready(
                SandboxUrls(
                    bot=f"{base}:{options.port}",
                    teams=f"{base}:{options.teams_port}",
                    servicenow=f"{base}:{options.servicenow_port}",
                    slack=f"{base}:{options.slack_port}",
                    pagerduty=f"{base}:{options.pagerduty_port}",
                    github=f"{base}:{options.github_port}",
                    jira=f"{base}:{options.jira_port}",
                )
            )
        await asyncio.Event().wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        for sock in sockets.values():
            sock.close()


def integration_emulators(
    settings: Settings, now: Callable[[], datetime], state: Path
) -> dict[str, web.Application]:
    """The PagerDuty, GitHub and Jira emulators, accepting whatever credentials the bot uses."""
    github_config = github.GitHubEmulatorConfig(
        tokens={settings.github_token.get_secret_value() or github.DEFAULT_TOKEN: github.BOT_LOGIN},
        repos=github.sample_repos(settings.github_repo or github.DEFAULT_REPO),
        now=now,
        state_dir=state / "github",
    )
    jira_config = dataclasses.replace(
        jira.config_for_account(
            settings.jira_user or jira.BOT_EMAIL,
            settings.jira_token.get_secret_value() or jira.DEFAULT_API_TOKEN,
            settings.jira_project or jira.DEFAULT_PROJECT,
            state / "jira",
        ),
        now=now,
    )
    pagerduty_config = pagerduty.PagerDutyEmulatorConfig(
        tokens=(settings.pagerduty_token.get_secret_value() or pagerduty.DEFAULT_TOKEN,),
        now=now,
        state_dir=state / "pagerduty",
    )
    return {
        "pagerduty": pagerduty.create_pagerduty_emulator(pagerduty_config),
        "github": github.create_github_emulator(github_config),
        "jira": jira.create_jira_emulator(jira_config),
    }


async def first_roster_sync(app: web.Application) -> str:
    """Sync the roster from PagerDuty once at start, so the demo's roster is PagerDuty's."""
    sync = app[RUNTIME].roster_sync
    if sync is None:
        return "roster sync off"
    result = await sync.run(actor="sandbox")
    if not result.ok:
        return f"roster sync failed: {result.reason[:120]}"
    return f"roster synced, {len(result.changes)} week(s) changed"
