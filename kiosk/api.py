"""The daemon's HTTP API on localhost: status, health, metrics (the touchscreen's routes
are its components'). Appointments arrive from the hub (kiosk/hub_link), not here."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from kiosk.component import Context
from kiosk.lifecycle import State

CTX_KEY = web.AppKey("ctx", Context)


def build_app(ctx: Context) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[CTX_KEY] = ctx
    metrics = Metrics(ctx)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/api/status", status),
            web.get("/metrics", metrics.handle),
        ]
    )
    for component in ctx.components.values():
        app.add_routes(component.routes())
    app.on_shutdown.append(_close_long_requests)
    return app


async def _close_long_requests(app: web.Application) -> None:
    """Components holding long requests open (WebSockets) close them here, before the
    server waits for every handler to finish."""
    for component in app[CTX_KEY].components.values():
        hook = getattr(component, "close_long_requests", None)
        if hook is not None:
            await hook()


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def status_document(ctx: Context) -> dict[str, Any]:
    lc = ctx.lifecycle
    doc: dict[str, Any] = {
        "cabin_id": ctx.settings.site.cabin_id,
        "site": ctx.settings.site.name,
        "state": lc.state.value,
        "locked": lc.locked,
        "since": lc.since.isoformat(),
        "session_active": lc.session_id is not None,
        "open_now": ctx.opening_hours.is_open(lc.clock()),
        "instruments": [],
        "printer": None,
    }
    for name, component in ctx.components.items():
        value = component.status()
        if value is not None:
            doc[name] = value
    return doc


async def healthz(request: web.Request) -> web.Response:
    ctx = request.app[CTX_KEY]
    healthy = ctx.lifecycle.state is not State.OUT_OF_SERVICE
    return web.json_response(
        {"ok": healthy, "state": ctx.lifecycle.state.value}, status=200 if healthy else 503
    )


async def status(request: web.Request) -> web.Response:
    return web.json_response(status_document(request.app[CTX_KEY]))


class Metrics:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.registry = CollectorRegistry()
        self.state = Gauge(
            "kiosk_state", "1 for the current lifecycle state", ["state"], registry=self.registry
        )
        self.locked = Gauge(
            "kiosk_locked", "1 while new patients are refused", registry=self.registry
        )
        self.events = Gauge(
            "kiosk_bus_events_published", "events published on the bus", registry=self.registry
        )
        self.dropped = Gauge(
            "kiosk_bus_events_dropped", "events dropped by slow subscribers", registry=self.registry
        )
        self.tasks = Gauge("kiosk_tasks_running", "background tasks", registry=self.registry)
        # Every task of the daemon's event loop (aiohttp's handlers, aiortc's, the
        # supervisor's): what a leak of tasks shows in, for a cabin that runs for weeks.
        self.loop_tasks = Gauge(
            "kiosk_asyncio_tasks", "tasks of the event loop, all owners", registry=self.registry
        )
        self.crashed = Gauge(
            "kiosk_tasks_crashed", "background tasks that crashed", registry=self.registry
        )

    async def handle(self, request: web.Request) -> web.Response:
        lc = self.ctx.lifecycle
        for s in State:
            self.state.labels(s.value).set(1 if lc.state is s else 0)
        self.locked.set(1 if lc.locked else 0)
        self.events.set(self.ctx.bus.published)
        self.dropped.set(self.ctx.bus.dropped)
        self.tasks.set(self.ctx.tasks.running)
        self.loop_tasks.set(len(asyncio.all_tasks()))
        self.crashed.set(self.ctx.tasks.crashed)
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
