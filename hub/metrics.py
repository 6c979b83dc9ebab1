"""/metrics (Prometheus text) of one hub instance: connections, relays, traffic, tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hub.context import HubContext
from hub.gc_pauses import GcPauses
from hub.router import LocalRouter

if TYPE_CHECKING:
    from hub.cabins.gateway import CabinGateway


class MetricsRoutes:
    def __init__(self, ctx: HubContext, gateway: CabinGateway, gc_pauses: GcPauses) -> None:
        self.ctx = ctx
        self.gateway = gateway
        self.gc_pauses = gc_pauses
        self.registry = CollectorRegistry()
        r = self.registry
        self.cabins = Gauge("hub_cabins_connected", "cabin sockets held", registry=r)
        self.heartbeats = Gauge("hub_cabin_heartbeats", "heartbeats received", registry=r)
        self.outbox = Gauge("hub_outbox_items", "cabin outbox items applied", registry=r)
        self.relayed = Gauge("hub_relayed", "messages relayed cabin <-> console", registry=r)
        self.tasks = Gauge("hub_tasks_running", "background tasks", registry=r)
        self.crashed = Gauge("hub_tasks_crashed", "background tasks that crashed", registry=r)
        self.writer_batches = Gauge(
            "hub_writer_transactions", "the cabins' writer's transactions", registry=r
        )
        self.writer_pieces = Gauge("hub_writer_pieces", "frames the writer committed", registry=r)
        labels = ["generation"]
        self.gc_count = Gauge("hub_gc_collections", "collections", labels, registry=r)
        self.gc_total = Gauge("hub_gc_pause_seconds", "time in collections", labels, registry=r)
        self.gc_max = Gauge("hub_gc_pause_max_seconds", "longest collection", labels, registry=r)

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
        self.writer_batches.set(self.gateway.writes.transactions)
        self.writer_pieces.set(self.gateway.writes.pieces)
        pauses = self.gc_pauses
        for generation in range(3):
            label = str(generation)
            self.gc_count.labels(label).set(pauses.collections[generation])
            self.gc_total.labels(label).set(pauses.total_s[generation])
            self.gc_max.labels(label).set(pauses.max_s[generation])
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
