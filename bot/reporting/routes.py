"""Wiring of the reporting pages into the app: ``/metrics``, ``/dashboard``, ``/dashboard/data.json``."""

from __future__ import annotations

from aiohttp import web

from bot.clock import Clock
from bot.leadership import LeaderStatus
from bot.reporting import dashboard
from bot.reporting.dashboard import DashboardAccess
from bot.reporting.metrics import Metrics
from bot.storage.store import Store
from schedule.plan import WindowSettings


def install(
    app: web.Application,
    metrics: Metrics,
    store: Store,
    clock: Clock,
    window: WindowSettings,
    access: DashboardAccess,
    leadership: LeaderStatus | None = None,
) -> None:
    async def metrics_view(request: web.Request) -> web.Response:
        await metrics.refresh(store, clock.now())
        body, content_type = metrics.expose(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/metrics", metrics_view)
    app.router.add_routes(dashboard.routes(store, clock, window, access, leadership))
