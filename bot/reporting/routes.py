"""Wiring of the reporting pages into the app: ``install(app, COMPONENTS)`` from ``create_app``."""

from __future__ import annotations

from aiohttp import web

from bot.reporting import dashboard
from bot.reporting.metrics import Metrics

#: The app's metrics (one registry per app); set by :func:`install` before start-up so the
#: composition root can hand ``observe_*`` hooks to the gateway and messenger.
METRICS = web.AppKey("metrics", Metrics)


def install(app: web.Application, components_key) -> Metrics:
    """Create the app's :class:`Metrics` and add ``/metrics``, ``/dashboard``, ``/dashboard/data.json``."""
    metrics = Metrics()
    app[METRICS] = metrics

    async def metrics_view(request: web.Request) -> web.Response:
        components = request.app[components_key]
        await metrics.refresh(components.store, components.clock.now())
        body, content_type = metrics.expose(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/metrics", metrics_view)
    app.router.add_routes(dashboard.routes(components_key))
    return metrics
