"""The composition root: ``create_app(settings)`` builds and wires everything.

Resources live in ``cleanup_ctx`` so every start-up has its tear-down; collaborators are reached
through typed ``web.AppKey``s, never module globals. Tests pass their own clock, gateway or
messenger through ``Overrides``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from bot.bridge.escalation import EscalationService
from bot.bridge.handoff import HandoffNotices, handoff_handlers
from bot.bridge.ingest import ActivityInbox, ActivityProcessor
from bot.bridge.inquiries import BridgeConfig
from bot.bridge.jobs import InquiryJobs, JobContext
from bot.bridge.outbox import OutboxWorker
from bot.bridge.personal import PersonalCommands, PersonalConfig
from bot.bridge.render import Renderer
from bot.bridge.service import BridgeService
from bot.bridge.syncback import SyncBack, make_callback_handler
from bot.clock import Clock, SimulatedClock, SystemClock
from bot.graph import GraphChannelClient, MsalTokenProvider, StaticTokenProvider
from bot.lifecycle import ChannelJobs, ChannelLifecycle
from bot.logs import quiet_payload_loggers
from bot.reporting.metrics import ObservedClient
from bot.reporting.posting import handlers as report_handlers
from bot.reporting.posting import post_due_rotation_reports
from bot.reporting.routes import METRICS
from bot.reporting.routes import install as install_reporting
from bot.scheduling import (
    PeriodicJob,
    PostgresLeadership,
    ScheduleRunner,
    SqliteLeadership,
    replica_identity,
)
from bot.settings import Settings
from bot.storage.database import create_engine, is_ready, migrate
from bot.storage.store import Store
from bot.teams.adapter import build_adapter, build_authentication, run_stored_turn
from bot.teams.handler import GoLiveBot
from bot.teams.messenger import Credentials, TeamsMessenger
from bot.web.messages import MAX_BODY_BYTES, EdgePolicy, make_messages_handler
from schedule.plan import WindowSettings
from servicenow.errors import ServiceNowUnavailable
from servicenow.gateway import ServiceNowConfig, ServiceNowGateway
from servicenow.routing import load_routing_rules

log = logging.getLogger(__name__)


@dataclass
class Overrides:
    """Collaborators a test or the sandbox supplies instead of the production ones."""

    clock: Clock | None = None
    gateway: Any = None
    messenger: Any = None
    graph: Any = None
    run_background: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Components:
    settings: Settings
    clock: Clock
    store: Store
    service: BridgeService
    worker: OutboxWorker
    gateway: Any
    messenger: Any
    renderer: Renderer
    config: BridgeConfig
    graph: Any = None
    lifecycle: ChannelLifecycle | None = None
    escalation: EscalationService | None = None
    sync: SyncBack | None = None
    inbox: ActivityInbox | None = None
    processor: ActivityProcessor | None = None
    runner: ScheduleRunner | None = None
    background: list[asyncio.Task] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


COMPONENTS = web.AppKey("components", Components)


def bridge_config(settings: Settings) -> BridgeConfig:
    return BridgeConfig(
        tier2_group=settings.tier2_group,
        product_group=settings.product_group,
        product_name=settings.product_name,
        window=WindowSettings(
            open_hour=settings.window_open_hour,
            window_days=settings.window_days,
            retire_hour=settings.window_retire_hour,
        ),
        first_response_minutes=settings.first_response_minutes,
        second_escalation_minutes=settings.second_escalation_minutes,
        servicenow_url=settings.servicenow_url,
    )


def servicenow_config(settings: Settings) -> ServiceNowConfig:
    return ServiceNowConfig(
        base_url=settings.servicenow_url,
        user=settings.servicenow_user,
        password=settings.servicenow_password.get_secret_value(),
        timeout_s=settings.servicenow_timeout_s,
        max_concurrency=settings.servicenow_max_concurrency,
    )


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    quiet_payload_loggers()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    authentication = build_authentication(settings)
    adapter = build_adapter(authentication)
    policy = EdgePolicy(
        development=settings.development,
        allowed_service_url_prefixes=settings.service_url_allow_list,
        allowed_tenant_ids=settings.tenant_allow_list,
    )
    holder: dict[str, Components] = {}

    class _LateBoundUseCases:
        """The handler is built before the database is open; calls are forwarded once it is."""

        def __getattr__(self, name: str):
            return getattr(holder["components"].service, name)

    bot = GoLiveBot(_LateBoundUseCases())

    async def components_ctx(app: web.Application) -> AsyncIterator[None]:
        clock = overrides.clock or _clock_for(settings)
        engine = create_engine(settings.database_url)
        await migrate(engine)
        store = Store(engine)
        config = bridge_config(settings)
        rules = load_routing_rules(
            settings.routing_rules_file or None,
            tier2_group=settings.tier2_group,
            product_group=settings.product_group,
        )
        renderer = Renderer(config, rules)
        metrics = app[METRICS]
        raw_gateway = overrides.gateway or (
            ServiceNowGateway(servicenow_config(settings))
            if settings.servicenow_url
            else UnconfiguredServiceNow()
        )
        raw_messenger = overrides.messenger or TeamsMessenger(
            Credentials(
                settings.microsoft_app_id,
                settings.microsoft_app_password.get_secret_value(),
                settings.microsoft_app_tenant_id,
                development=settings.development,
            )
        )
        # Every ServiceNow and Teams call is timed and counted by status for /metrics.
        gateway = ObservedClient(raw_gateway, metrics.observe_servicenow)
        messenger = ObservedClient(raw_messenger, metrics.observe_teams)
        worker_ref: dict[str, OutboxWorker] = {}

        def wake() -> None:
            """New outbox work: the worker (built below, once its handlers exist) looks at once."""
            worker_ref["worker"].wake()

        service = BridgeService(
            store,
            clock,
            config,
            renderer,
            wake,
            management_channel_id=settings.management_channel_id,
            channel_template=settings.channel_name_template,
        )
        personal = PersonalCommands(store, clock, PersonalConfig.from_settings(settings), renderer, wake)
        service.set_personal_handler(personal.on_personal_message)
        service.set_add_week_handler(personal.on_add_week_card)
        service.set_management_handler(personal.on_management_post)
        job_context = JobContext(store, clock, config, gateway, messenger, renderer)
        http = aiohttp.ClientSession()
        graph_factory = overrides.graph or _graph_factory(settings, http)
        handlers = InquiryJobs(job_context).handlers()
        handlers.update(
            ChannelJobs(store, clock, config, messenger, graph_factory, settings.team_id).handlers()
        )
        handlers.update(handoff_handlers(messenger, store))
        worker = OutboxWorker(store, handlers, concurrency=settings.outbox_workers)
        worker_ref["worker"] = worker
        lifecycle = ChannelLifecycle(store, clock, config, settings.channel_name_template, wake)
        escalation = EscalationService(store, clock, config, wake, _delivery_lead(settings))
        sync = SyncBack(
            store,
            clock,
            gateway,
            integration_user=settings.servicenow_user,
            correlation_display=config.correlation_display,
            wake=wake,
        )
        components = Components(
            settings=settings,
            clock=clock,
            store=store,
            service=service,
            worker=worker,
            gateway=gateway,
            messenger=messenger,
            renderer=renderer,
            config=config,
            graph=graph_factory,
            lifecycle=lifecycle,
            escalation=escalation,
            sync=sync,
            extras=dict(overrides.extra),
        )
        inbox_ref: dict[str, ActivityInbox] = {}
        processor = ActivityProcessor(
            store,
            lambda payload: run_stored_turn(adapter, bot, raw_messenger, payload),
            ingest_busy=lambda: inbox_ref["inbox"].busy(),
        )
        components.processor = processor
        components.inbox = inbox_ref["inbox"] = ActivityInbox(store, processor.wake)
        worker.set_yield_to(components.inbox.busy)
        holder["components"] = components
        app[COMPONENTS] = components
        handlers.update(report_handlers(components))
        if overrides.run_background:
            components.inbox.start()
            components.background.append(asyncio.create_task(processor.run(), name="activity-processor"))
            components.background.append(asyncio.create_task(worker.run(), name="outbox-worker"))
            runner = _schedule_runner(settings, store, clock, lifecycle, escalation, sync)
            runner.add_job(PeriodicJob("rotation-report", 600, lambda: post_due_rotation_reports(components)))
            handoff = HandoffNotices(store, clock, wake)
            runner.add_job(PeriodicJob("duty-handoff", settings.tick_seconds, handoff.tick))
            await runner.start()
            components.runner = runner
            components.background.append(asyncio.create_task(runner.run(), name="schedule-runner"))
        try:
            yield
        finally:
            if components.runner is not None:
                components.runner.stop_jobs()
            await components.inbox.close()
            processor.stop()
            await worker.stop()
            for task in components.background:
                task.cancel()
            for task in components.background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if overrides.messenger is None:
                await raw_messenger.close()
            if overrides.gateway is None:
                await raw_gateway.close()
            await http.close()
            await authentication.close()
            await engine.dispose()

    app.cleanup_ctx.append(components_ctx)

    async def store_activity(payload: dict) -> None:
        await holder["components"].inbox.store(payload)

    app.router.add_post(
        "/api/messages", make_messages_handler(adapter, authentication, bot, policy, store_activity)
    )
    app.router.add_post("/servicenow/events", servicenow_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/privacy", policy_page)
    app.router.add_get("/terms", policy_page)
    app.router.add_get("/support", policy_page)
    app.router.add_get("/readyz", readyz)
    # --- reporting (issue 10): /metrics, /dashboard, /dashboard/data.json; app[METRICS] ---
    install_reporting(app, COMPONENTS)
    # --- end reporting ---
    if settings.development and settings.microsoft_app_id == "":
        log.warning(
            "DEVELOPMENT MODE: bot authentication is DISABLED; any caller can post activities. "
            "Never expose this instance."
        )
    return app


async def servicenow_events(request: web.Request) -> web.StreamResponse:
    components = request.app[COMPONENTS]
    secrets = [
        s.strip()
        for s in components.settings.servicenow_callback_secret.get_secret_value().split(",")
        if s.strip()
    ]
    handler = make_callback_handler(components.sync, secrets, components.store, components.clock)
    return await handler(request)


POLICY_TEXT = {
    "/privacy": (
        "Privacy",
        "Go Live Bridge copies what site staff post in go-live channels into ServiceNow incidents for "
        "product support. It keeps the posts, their authors' names and Entra object ids in its own "
        "database for the go-live period, never writes message text to logs, and warns when a post "
        "looks like it holds a Social Security number or a date of birth. Please never post patient data.",
    ),
    "/terms": (
        "Terms of use",
        "For VA staff supporting the eCheck-in go-live. Support requests are handled as ServiceNow "
        "incidents under the normal product support terms.",
    ),
    "/support": (
        "Support",
        "Post in your site's Go Live channel during your go-live week; afterwards, raise a ServiceNow "
        "incident for the product.",
    ),
}


async def policy_page(request: web.Request) -> web.Response:
    title, text = POLICY_TEXT[request.path]
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>Go Live Bridge: {title}</title>"
        f"<body style='font-family:system-ui;max-width:40rem;margin:2rem auto'><h1>{title}</h1><p>{text}</p>"
    )
    return web.Response(text=body, content_type="text/html")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    components = request.app[COMPONENTS]
    ready, reason = await is_ready(components.store.engine)
    return web.json_response(
        {"status": "ok" if ready else "unavailable", "reason": reason}, status=200 if ready else 503
    )


class UnconfiguredServiceNow:
    """Stands in when GOLIVE_SERVICENOW_URL is empty: the bot still starts and stores every inquiry;
    each ServiceNow job waits (retried with backoff) until the setting is given and the bot restarts."""

    def __getattr__(self, name: str):
        async def unavailable(*args, **kwargs):
            raise ServiceNowUnavailable("GOLIVE_SERVICENOW_URL is not set", retry_after=60.0)

        return unavailable

    async def close(self) -> None:
        return None


def _clock_for(settings: Settings) -> Clock:
    if settings.development and settings.simulated_now is not None:
        start = settings.simulated_now
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return SimulatedClock(start, settings.simulated_speed)
    return SystemClock()


def _graph_factory(settings: Settings, http: aiohttp.ClientSession):
    if settings.development or not settings.microsoft_app_id:
        tokens = StaticTokenProvider("development")
    else:
        tokens = MsalTokenProvider(
            settings.microsoft_app_id,
            settings.microsoft_app_password.get_secret_value(),
            settings.microsoft_app_tenant_id,
        )

    def factory(team_id: str) -> GraphChannelClient:
        return GraphChannelClient(http, settings.graph_url, team_id, tokens)

    return factory


def _delivery_lead(settings: Settings) -> tuple[str, str] | None:
    return (settings.delivery_lead_aad_id, "Delivery lead") if settings.delivery_lead_aad_id else None


def _schedule_runner(
    settings: Settings,
    store: Store,
    clock: Clock,
    lifecycle: ChannelLifecycle,
    escalation: EscalationService,
    sync: SyncBack,
) -> ScheduleRunner:
    identity = replica_identity()
    if store.dialect == "sqlite":
        leadership: SqliteLeadership | PostgresLeadership = SqliteLeadership(store, identity)
    else:
        leadership = PostgresLeadership(settings.database_url, identity)
    jobs = [
        PeriodicJob("channel-lifecycle", settings.tick_seconds, lifecycle.tick),
        PeriodicJob("first-response-escalation", min(settings.tick_seconds, 10.0), escalation.tick),
    ]
    if settings.servicenow_url:
        jobs.append(PeriodicJob("servicenow-sync", settings.servicenow_poll_interval_s, sync.poll))

    async def exact_instants() -> list[tuple[str, float]]:
        """Open/retire instants of the next hours, keyed by the instant (not by when it runs)."""
        now = clock.now()
        upcoming = await lifecycle.upcoming_instants(now, now + timedelta(hours=6))
        return [(at.isoformat(), clock.real_delay_until(at)) for at in upcoming]

    return ScheduleRunner(
        leadership,
        jobs,
        exact_instants=exact_instants,
        on_exact=lifecycle.tick,
        refuse_if_taken=store.dialect == "sqlite",
    )
