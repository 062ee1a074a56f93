"""The composition root: ``create_app(settings)`` builds everything, in one typed pass, and wires it.

Adapters first (storage, ServiceNow, Teams, Slack when configured), then the outbox's job registry and worker, then the
use cases that queue work for it, then the edges that call the use cases. Nothing is bound late:
every collaborator arrives by constructor. Start-up and tear-down pair up in ``cleanup_ctx``
(migrations, background tasks, leadership); the app's state is one typed :class:`Runtime` under
:data:`RUNTIME`. Tests and the sandbox pass their own clock or adapters through :class:`Overrides`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from bot.alerts import SOURCES
from bot.bridge.alert_jobs import AlertJobs
from bot.bridge.alerts import AlertService, AlertSettings, AlertTextPurge, platforms_for
from bot.bridge.config import BridgeConfig
from bot.bridge.deadletters import DeadLetterNotices, DeadLetters
from bot.bridge.dispatch import CommandDispatcher
from bot.bridge.escalation import EscalationService
from bot.bridge.followups import ALERT_SUBJECT, INQUIRY_SUBJECT, FollowUps, FollowUpSettings
from bot.bridge.handoff import HandoffNotices
from bot.bridge.incident_commands import IncidentCommands
from bot.bridge.ingest import ActivityInbox, ActivityProcessor, Arrivals
from bot.bridge.jobs import Chats, InquiryJobs
from bot.bridge.lifecycle import ChannelJobs, ChannelLifecycle
from bot.bridge.notices import ChannelNotices
from bot.bridge.outbox import JobRegistry, OutboxWorker
from bot.bridge.personal import PersonalCommands
from bot.bridge.plan_changes import PlanRules
from bot.bridge.render import Renderer
from bot.bridge.retention import Retention
from bot.bridge.roster_sync import RosterSync
from bot.bridge.service import BridgeService
from bot.bridge.syncback import SyncBack
from bot.clock import Clock, SimulatedClock, SystemClock
from bot.inbound import MAX_BODY_BYTES
from bot.integrations import followup_tracker, pagerduty_roster, tracker_name
from bot.leadership import LeaderStatus
from bot.logs import quiet_payload_loggers
from bot.ports import ChannelDirectory, ChatPlatform, FollowUpTracker, IncidentTracker, RosterSource
from bot.reporting.dashboard import DashboardAccess, TabRefused, TabSignIn
from bot.reporting.metrics import Metrics
from bot.reporting.posting import ReportSettings, RotationReports
from bot.reporting.routes import install as install_reporting
from bot.scheduling import (
    EXACT_INSTANT_JOB,
    PeriodicJob,
    PostgresLeadership,
    ScheduleRunner,
    SlotClaims,
    SqliteLeadership,
    replica_identity,
)
from bot.servicenow_tracker import ServiceNowTracker
from bot.settings import Settings
from bot.shared_clock import share_clock
from bot.slack.api import SlackApi
from bot.slack.edge import make_events_handler as make_slack_events_handler
from bot.slack.platform import SlackChat
from bot.slack.router import SlackEvents
from bot.slack.signature import SignatureVerifier
from bot.slack.workspace import SlackWorkspace
from bot.storage.database import create_engine, is_ready, migrate
from bot.storage.store import Store
from bot.teams.activity import Activity as TeamsActivity
from bot.teams.adapter import build_authentication
from bot.teams.directory import GraphFactory, TeamsChannelDirectory
from bot.teams.edge import EdgePolicy, make_messages_handler
from bot.teams.graph import GraphChannelClient, MsalTokenProvider, StaticTokenProvider, TokenProvider
from bot.teams.handler import TeamsEvents
from bot.teams.messenger import Credentials, TeamsMessenger
from bot.teams.openid import MICROSOFT_CHANNEL_METADATA_URL, KeyPolicy, OpenIdKeyRing, metadata_source
from bot.teams.places import TeamsPlaces
from bot.teams.platform import TeamsChat
from bot.teams.sso import (
    TabKeysUnavailable,
    TabSsoConfig,
    TabTokenError,
    TabTokenValidator,
    TabUser,
    tab_audiences,
)
from bot.web.alerts import install as install_alerts
from bot.web.pages import install as install_pages
from bot.web.plan_api import PlanApi
from bot.web.plan_api import install as install_plan_api
from bot.web.servicenow_events import make_servicenow_events_handler
from schedule.plan import WindowSettings
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway
from servicenow.routing import load_routing_rules

log = logging.getLogger(__name__)

#: How far back a new leader looks for open/retire instants no replica ran (simulated time).
EXACT_CATCH_UP = timedelta(days=7)


@dataclass
class Overrides:
    """Collaborators a test or the sandbox supplies instead of the production ones."""

    clock: Clock | None = None
    tracker: IncidentTracker | None = None
    teams: ChatPlatform | None = None
    slack: ChatPlatform | None = None
    directory: ChannelDirectory | None = None
    roster_source: RosterSource | None = None
    followups: FollowUpTracker | None = None
    run_background: bool = True


@dataclass(frozen=True)
class Runtime:
    """Everything the routes, the tests and the tear-down need, typed."""

    settings: Settings
    clock: Clock
    store: Store
    config: BridgeConfig
    service: BridgeService
    jobs: JobRegistry
    worker: OutboxWorker
    inbox: ActivityInbox
    processor: ActivityProcessor
    lifecycle: ChannelLifecycle
    escalation: EscalationService
    handoff: HandoffNotices
    sync: SyncBack
    reports: RotationReports
    tracker: IncidentTracker
    chats: Chats
    metrics: Metrics
    places: TeamsPlaces
    dead_letters: DeadLetters
    retention: Retention
    alerts: AlertService
    leadership: LeaderStatus
    roster_sync: RosterSync | None
    followups: FollowUps
    slack_api: SlackApi | None = None
    background: list[asyncio.Task[None]] = field(default_factory=list)


RUNTIME = web.AppKey("runtime", Runtime)


def window_settings(settings: Settings) -> WindowSettings:
    return WindowSettings(
        open_hour=settings.window_open_hour,
        window_days=settings.window_days,
        retire_hour=settings.window_retire_hour,
    )


def bridge_config(settings: Settings) -> BridgeConfig:
    return BridgeConfig(
        tier2_group=settings.tier2_group,
        product_group=settings.product_group,
        product_name=settings.product_name,
        window=window_settings(settings),
        first_response_minutes=settings.first_response_minutes,
        second_escalation_minutes=settings.second_escalation_minutes,
        servicenow_url=settings.servicenow_url,
        channel_template=settings.channel_name_template,
        management_channel_id=settings.management_channel_id,
        manager_ids=settings.manager_ids,
        integration_user=settings.servicenow_user,
        delivery_lead=(settings.delivery_lead_aad_id, "Delivery lead")
        if settings.delivery_lead_aad_id
        else None,
        watched_channels=tuple(("slack", name) for name in settings.slack_watched_channels)
        if settings.slack_enabled
        else (),
        followup_tracker="" if settings.followup_missing() else tracker_name(settings),
    )


def servicenow_config(settings: Settings) -> ServiceNowConfig:
    return ServiceNowConfig(
        base_url=settings.servicenow_url,
        user=settings.servicenow_user,
        password=settings.servicenow_password.get_secret_value(),
        timeout_s=settings.servicenow_timeout_s,
        max_concurrency=settings.servicenow_max_concurrency,
    )


def build_retention(store: Store, settings: Settings) -> Retention:
    """The retention rule with every feature's purge: the leader's daily run and ``golive purge``
    must erase the same things."""
    return Retention(store, settings.retention_days, purges=(AlertTextPurge(),))


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    quiet_payload_loggers()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    clock = overrides.clock or _clock_for(settings)
    config = bridge_config(settings)
    # PagerDuty and the follow-up tracker, unless a test brings its own (those built here are closed here).
    built_source = None if overrides.roster_source else pagerduty_roster(settings)
    built_issues = None if overrides.followups else followup_tracker(settings)
    roster_source = overrides.roster_source or built_source
    issues = overrides.followups or built_issues
    if overrides.followups is not None:
        config = dataclasses.replace(config, followup_tracker=tracker_name(settings))

    # --- adapters ---------------------------------------------------------------------------------
    engine = create_engine(settings.database_url)
    store = Store(engine)
    leadership = LeaderStatus(replica_identity(), store)
    metrics = Metrics(leadership)
    places = TeamsPlaces(store)
    http = HttpSession()
    messenger = TeamsMessenger(
        Credentials(
            settings.microsoft_app_id,
            settings.microsoft_app_password.get_secret_value(),
            settings.microsoft_app_tenant_id,
            development=settings.development,
        )
    )
    graph_directory = TeamsChannelDirectory(_graph_factory(settings, http), settings.team_id, places)
    teams: ChatPlatform = overrides.teams or TeamsChat(
        messenger, places, metrics.observe_teams, history=graph_directory
    )
    directory = overrides.directory or graph_directory
    tracker = overrides.tracker or ServiceNowTracker(
        ServiceNowGateway(servicenow_config(settings)) if settings.servicenow_url else None,
        metrics.observe_servicenow,
    )
    slack_api, slack_workspace, slack_chat = _slack(settings, metrics)
    slack: ChatPlatform | None = overrides.slack or slack_chat
    platforms: dict[str, ChatPlatform] = {"teams": teams}
    if slack is not None:
        platforms["slack"] = slack
    chats = Chats(platforms)
    rules = load_routing_rules(
        settings.routing_rules_file or None,
        tier2_group=settings.tier2_group,
        product_group=settings.product_group,
    )
    renderer = Renderer(config, rules)

    # --- the outbox ---------------------------------------------------------------------------------
    jobs = JobRegistry()
    arrivals = Arrivals()
    worker = OutboxWorker(
        store,
        jobs,
        busy=arrivals.busy,
        on_dead=DeadLetterNotices(store).on_dead,
        max_attempts=settings.max_attempts,
        concurrency=settings.outbox_workers,
    )
    wake = worker.wake
    InquiryJobs(store, clock, config, tracker, chats, renderer).register(jobs)
    ChannelJobs(store, clock, config, chats, directory).register(jobs)
    ChannelNotices(store, chats).register(jobs)
    alert_settings = alert_settings_of(settings)
    alert_platforms = platforms_for(chats)
    AlertJobs(store, clock, config, alert_settings, tracker, chats, directory, alert_platforms).register(jobs)
    followups = FollowUps(
        store,
        clock,
        FollowUpSettings(config.followup_tracker, settings.followup_label_list),
        issues,
        tracker,
        chats,
        worker.wake,
        subjects=(INQUIRY_SUBJECT, ALERT_SUBJECT),
    )
    followups.register(jobs)

    # --- use cases ----------------------------------------------------------------------------------
    personal = PersonalCommands(store, clock, config)
    dispatcher = CommandDispatcher(
        store, config, {**IncidentCommands(store, config, renderer).handlers(), **personal.handlers()}
    )
    alerts = AlertService(store, clock, config, alert_settings, rules, alert_platforms, wake)
    service = BridgeService(
        store, clock, config, renderer, dispatcher, personal, wake, alerts=alerts, followups=followups
    )
    roster_sync = (
        None
        if roster_source is None
        else RosterSync(store, clock, roster_source, _schedule_pair(settings.pagerduty_schedules))
    )
    lifecycle = ChannelLifecycle(store, clock, config, wake)
    escalation = EscalationService(store, clock, config, wake)
    handoff = HandoffNotices(store, clock, wake, config.watched_channels)
    sync = SyncBack(
        store,
        clock,
        tracker,
        integration_user=settings.servicenow_user,
        correlation_display=config.correlation_display,
        wake=wake,
    )
    reports = RotationReports(
        store,
        clock,
        ReportSettings(config.window, settings.first_response_minutes, settings.management_channel_id),
        wake,
    )

    # --- the Teams edge -----------------------------------------------------------------------------
    signing_keys = OpenIdKeyRing(
        settings.openid_metadata_url or MICROSOFT_CHANNEL_METADATA_URL,
        KeyPolicy(timeout_s=settings.openid_timeout_s),
    )
    authentication = build_authentication(settings)
    teams_events = TeamsEvents(service, places, clock)

    async def run_stored_activity(payload: dict[str, Any]) -> None:
        await teams_events.handle(msgspec.convert(payload, TeamsActivity))

    turns: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
        "teams": run_stored_activity,
        **{source: alerts.receive for source in SOURCES},
    }
    if slack_api is not None and slack_workspace is not None:
        slack_events = SlackEvents(
            service, slack_workspace, slack_api, settings.slack_watched_channels, clock
        )
        turns["slack"] = slack_events.handle
    processor = ActivityProcessor(store, turns, max_attempts=settings.max_attempts, ingest_busy=arrivals.busy)
    inbox = ActivityInbox(store, processor.wake, arrivals)
    policy = EdgePolicy(
        development=settings.development,
        allowed_service_url_prefixes=settings.service_url_allow_list,
        allowed_tenant_ids=settings.accepted_tenants,
    )

    runtime = Runtime(
        settings=settings,
        clock=clock,
        store=store,
        config=config,
        service=service,
        jobs=jobs,
        worker=worker,
        inbox=inbox,
        processor=processor,
        lifecycle=lifecycle,
        escalation=escalation,
        handoff=handoff,
        sync=sync,
        reports=reports,
        tracker=tracker,
        chats=chats,
        metrics=metrics,
        places=places,
        dead_letters=DeadLetters(store, clock),
        retention=build_retention(store, settings),
        alerts=alerts,
        slack_api=slack_api,
        leadership=leadership,
        roster_sync=roster_sync,
        followups=followups,
    )
    app[RUNTIME] = runtime

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await migrate(engine)
        if isinstance(clock, SimulatedClock):
            await share_clock(store, clock)  # every replica on the stored clock; a restart never rewinds
        # botbuilder's token checks take their keys from the ring: fetched off the event loop.
        signing_keys.install()
        if not settings.auth_disabled:  # else the DEVELOPMENT MODE line says tokens are not checked
            level, text = metadata_source(settings.openid_metadata_url, production=not settings.development)
            log.log(level, text)
            runtime.background.append(asyncio.create_task(_prewarm(signing_keys), name="openid-prewarm"))
        runner: ScheduleRunner | None = None
        if overrides.run_background:
            inbox.start()
            runtime.background.append(asyncio.create_task(processor.run(), name="activity-processor"))
            runtime.background.append(asyncio.create_task(worker.run(), name="outbox-worker"))
            runner = _schedule_runner(settings, runtime)
            await runner.start()
            runtime.background.append(asyncio.create_task(runner.run(), name="schedule-runner"))
        try:
            yield
        finally:
            if runner is not None:
                runner.stop_jobs()
            await inbox.close()
            await processor.stop()
            await worker.stop()
            for task in runtime.background:
                task.cancel()
            for task in runtime.background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if runner is not None:
                await runner.close()
            await messenger.close()
            if slack_api is not None:
                await slack_api.close()
            if overrides.tracker is None and isinstance(tracker, ServiceNowTracker):
                await tracker.close()
            await http.close()
            for adapter in (built_source, built_issues):
                if adapter is not None:
                    await adapter.close()
            await authentication.close()
            await signing_keys.close()
            await store.close()
            await engine.dispose()

    app.cleanup_ctx.append(lifetime)

    app.router.add_post(
        "/api/messages", make_messages_handler(authentication, teams_events, policy, inbox.store)
    )
    secrets = [
        secret.strip()
        for secret in settings.servicenow_callback_secret.get_secret_value().split(",")
        if secret.strip()
    ]
    if slack_api is not None:

        async def store_slack(payload: dict[str, Any], key: str) -> None:
            await inbox.store(payload, source="slack", key=key)

        verifier = SignatureVerifier(
            tuple(s.strip() for s in settings.slack_signing_secret.get_secret_value().split(",") if s.strip())
        )
        app.router.add_post("/slack/events", make_slack_events_handler(verifier, store_slack))
    app.router.add_post("/servicenow/events", make_servicenow_events_handler(sync, secrets, store, clock))
    install_alerts(
        app,
        {
            "sentry": settings.sentry_client_secret.get_secret_value(),
            "datadog": settings.datadog_webhook_token.get_secret_value(),
            "pagerduty": settings.pagerduty_webhook_secret.get_secret_value(),
            "bugsnag": settings.bugsnag_webhook_token.get_secret_value(),
        },
        inbox.store,
        clock,
    )
    install_pages(app, readiness=lambda: is_ready(engine), leadership=leadership)
    install_reporting(
        app,
        metrics,
        store,
        clock,
        config.window,
        DashboardAccess(
            settings.development,
            settings.dashboard_token.get_secret_value(),
            tab_sign_in=tab_sign_in_for(settings),
            teams_js_url=settings.teams_js_url,
            first_response_s=settings.first_response_minutes * 60,
        ),
        leadership,
    )
    install_plan_api(
        app,
        PlanApi(store, clock, PlanRules(config.window, config.channel_template), settings.api_token_names),
    )
    if settings.development and settings.microsoft_app_id == "":
        log.warning(
            "DEVELOPMENT MODE: bot authentication is DISABLED; any caller can post activities. "
            "Never expose this instance."
        )
    return app


def tab_sign_in_for(settings: Settings) -> TabSignIn | None:
    """The dashboard tab's Teams sign-in check, when the tenant and an audience are known."""
    audiences = tab_audiences(settings.microsoft_app_id, settings.public_url, settings.teams_sso_audiences)
    if not settings.microsoft_app_tenant_id or not audiences:
        return None
    validator = TabTokenValidator(
        TabSsoConfig(settings.microsoft_app_tenant_id, audiences, settings.teams_sso_authority)
    )

    async def sign_in(token: str) -> TabUser:
        try:
            return await validator.validate(token)
        except TabKeysUnavailable as error:
            raise TabRefused(503, error.reason) from None
        except TabTokenError as error:
            raise TabRefused(401, error.reason) from None

    return sign_in


def alert_settings_of(settings: Settings) -> AlertSettings:
    return AlertSettings(
        group=settings.alert_group or settings.product_group,
        teams_channel=settings.teams_alert_channel,
        slack_channel=settings.slack_alert_channel,
        max_new_per_minute=settings.alert_max_new_per_minute,
    )


def _slack(
    settings: Settings, metrics: Metrics
) -> tuple[SlackApi | None, SlackWorkspace | None, SlackChat | None]:
    """The Slack adapter when Slack is on (bot token and signing secret set)."""
    if not settings.slack_enabled:
        return None, None, None
    api = SlackApi(
        settings.slack_bot_token.get_secret_value(), settings.slack_api_url, observe=metrics.observe_slack
    )
    workspace = SlackWorkspace(api)
    return api, workspace, SlackChat(api, workspace)


def _clock_for(settings: Settings) -> Clock:
    if settings.development and settings.simulated_now is not None:
        start = settings.simulated_now
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return SimulatedClock(start, settings.simulated_speed)
    return SystemClock()


async def _prewarm(signing_keys: OpenIdKeyRing) -> None:
    """Fetch the channel's signing keys in the background, so start-up never waits for them (a
    failure is logged by the ring and retried by the first token check after its back-off)."""
    await signing_keys.prewarm()


class HttpSession:
    """The app's one aiohttp client session (Graph calls), opened on first use inside the event
    loop, as aiohttp requires, and closed at shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _schedule_pair(schedules: tuple[str, ...]) -> tuple[str, str]:
    """(primary, backup) schedule ids; a test's fake source may run without the settings."""
    return (schedules[0], schedules[1]) if len(schedules) == 2 else ("primary", "backup")


def _graph_factory(settings: Settings, http: HttpSession) -> GraphFactory:
    tokens: TokenProvider
    if settings.development or not settings.microsoft_app_id:
        tokens = StaticTokenProvider("development")
    else:
        tokens = MsalTokenProvider(
            settings.microsoft_app_id,
            settings.microsoft_app_password.get_secret_value(),
            settings.microsoft_app_tenant_id,
        )

    def graph_for(team_id: str) -> GraphChannelClient:
        return GraphChannelClient(http.get(), settings.graph_url, team_id, tokens)

    return graph_for


def _schedule_runner(settings: Settings, runtime: Runtime) -> ScheduleRunner:
    store, clock, lifecycle = runtime.store, runtime.clock, runtime.lifecycle
    identity = runtime.leadership.identity
    leadership: SqliteLeadership | PostgresLeadership
    if store.dialect == "sqlite":
        leadership = SqliteLeadership(store, identity)
    else:
        leadership = PostgresLeadership(settings.database_url, identity, store)
    claims = SlotClaims(store, identity)
    jobs = [
        PeriodicJob("channel-lifecycle", settings.tick_seconds, lifecycle.tick),
        PeriodicJob("first-response-escalation", min(settings.tick_seconds, 10.0), runtime.escalation.tick),
        # The report check follows the (possibly simulated) clock: a tick, not a wall-clock period.
        PeriodicJob("rotation-report", settings.tick_seconds, runtime.reports.post_due),
        PeriodicJob("duty-handoff", settings.tick_seconds, runtime.handoff.tick),
        PeriodicJob(
            "retention-purge", 24 * 3600, lambda: runtime.retention.purge(clock.now(), actor="scheduler")
        ),
        PeriodicJob("alert-escalation", min(settings.tick_seconds, 10.0), runtime.alerts.tick),
    ]
    if settings.servicenow_url:
        jobs.append(PeriodicJob("servicenow-sync", settings.servicenow_poll_interval_s, runtime.sync.poll))
    if runtime.roster_sync is not None:
        jobs.append(PeriodicJob("roster-sync", settings.pagerduty_sync_interval_s, runtime.roster_sync.tick))
    if runtime.followups.enabled:
        jobs.append(PeriodicJob("followup-states", 900, runtime.followups.refresh_states))

    async def exact_instants() -> list[tuple[str, float]]:
        """Open/retire instants of the next hours, keyed by the instant in UTC (not by when it runs),
        and those since the last claimed one: the slots that came due while no replica led."""
        now = clock.now()
        since = now - EXACT_CATCH_UP
        last = await claims.last_slot(EXACT_INSTANT_JOB)
        if last is not None:
            since = max(since, datetime.fromisoformat(last))
        upcoming = await lifecycle.upcoming_instants(since, now + timedelta(hours=6))
        return [(at.astimezone(UTC).isoformat(), clock.real_delay_until(at)) for at in upcoming]

    return ScheduleRunner(
        leadership,
        jobs,
        exact_instants=exact_instants,
        on_exact=lifecycle.tick,
        claims=claims,
        status=runtime.leadership,
        refuse_if_taken=store.dialect == "sqlite",
    )


__all__ = ["RUNTIME", "Overrides", "Runtime", "create_app"]
