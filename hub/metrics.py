"""/metrics (Prometheus text) of one hub instance: connections, relays, traffic, tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hub.context import HubContext
from hub.router import LocalRouter

if TYPE_CHECKING:
    from hub.cabins.gateway import CabinGateway


class MetricsRoutes:
    def __init__(self, ctx: HubContext, gateway: CabinGateway) -> None:
        self.ctx = ctx
        self.gateway = gateway
        self.registry = CollectorRegistry()
        r = self.registry
        self.cabins = Gauge("hub_cabins_connected", "cabin sockets held", registry=r)
        self.heartbeats = Gauge("hub_cabin_heartbeats", "heartbeats received", registry=r)
        self.outbox = Gauge("hub_outbox_items", "cabin outbox items applied", registry=r)
        self.relayed = Gauge("hub_relayed", "messages relayed cabin <-> console", registry=r)
        self.tasks = Gauge("hub_tasks_running", "background tasks", registry=r)
        self.crashed = Gauge("hub_tasks_crashed", "background tasks that crashed", registry=r)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/metrics", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        self.cabins.set(len(self.gateway.connections))
        self.heartbeats.set(self.gateway.heartbeats)
        self.outbox.set(self.gateway.outbox_items)
        router = self.ctx.router
        self.relayed.set(router.relayed if isinstance(router, LocalRouter) else 0)
        self.tasks.set(self.ctx.tasks.running)
        self.crashed.set(self.ctx.tasks.crashed)
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
