"""The hub process: the store, the router, the web server and every part's routes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import ssl
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy import select, update

from hub.auth.web import LoginRoutes
from hub.booking.routes import BookingRoutes
from hub.cabins.gateway import CabinGateway
from hub.console.routes import ConsoleRoutes
from hub.context import HubContext
from hub.fleet.alerts import AlertMonitor
from hub.fleet.audit_page import AuditRoutes
from hub.fleet.routes import FleetRoutes
from hub.gc_pauses import GcPauses, freeze_startup
from hub.metrics import MetricsRoutes
from hub.records.delivery import DeliveryWorker
from hub.records.retention import purge_loop
from hub.router import LocalRouter, Router
from hub.settings import HubSettings
from hub.shared.sdnotify import Notifier, watchdog_interval, watchdog_loop
from hub.shared.tasks import TaskSupervisor
from hub.store import Database, migrate
from hub.store.models import Cabin
from hub.sync_sites import sync_sites
from hub.web.common import STATIC

log = logging.getLogger(__name__)

# Shutdown's steps, each bounded: 7 s at most, within systemd's TimeoutStopSec=10s.
SOCKETS_CLOSE_S = 3.0


class Part(Protocol):
    def routes(self) -> list[web.AbstractRouteDef]: ...


class Hub:
    def __init__(
        self,
        settings: HubSettings,
        *,
        demo_login_token: str | None = None,
        notifier: Notifier | None = None,
        runtime_file: Path | None = None,
        router: Router | None = None,
        freeze_gc: bool = False,
    ) -> None:
        self.settings = settings
        self.freeze_gc = freeze_gc  # `kiosk hub run`: the process is the hub's alone
        self.gc_pauses = GcPauses()
        self.notifier = notifier or Notifier()
        self.runtime_file = runtime_file
        self.db = Database(settings.database_url)
        self.ctx = HubContext(
            settings=settings,
            db=self.db,
            router=router or LocalRouter(),
            tasks=TaskSupervisor(),
            demo_login_token=demo_login_token,
        )
        self.gateway = CabinGateway(self.ctx)
        self.console = ConsoleRoutes(self.ctx)
        self.fleet = FleetRoutes(self.ctx)
        self.alerts = AlertMonitor(self.ctx)
        self.records = DeliveryWorker(self.ctx)
        self.parts: list[Part] = [
            LoginRoutes(self.ctx),
            self.gateway,
            self.console,
            self.fleet,
            AuditRoutes(self.ctx),
            MetricsRoutes(self.ctx, self.gateway, self.gc_pauses),
            BookingRoutes(self.ctx),
        ]
        self.stop_requested = asyncio.Event()
        self.url: str | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        await migrate.check(self.db)
        await sync_sites(self.db, self.settings)
        await self._mark_cabins_offline()
        await self.gateway.start()
        await self.alerts.start()
        self.records.start()
        self.ctx.tasks.spawn(purge_loop(self.ctx), "records-retention")
        await self._serve()
        interval = watchdog_interval()
        if interval is not None:
            self.ctx.tasks.spawn(watchdog_loop(self.notifier, interval), "watchdog")
        if self.freeze_gc:
            log.info("hub: %d objects of the start exempted from collections", freeze_startup())
        self.gc_pauses.install()  # after: the start's own collection is not the hub's
        self.notifier.ready(f"serving {self.url}")
        log.info("hub ready on %s", self.url)
        assert self.url is not None
        return self.url

    async def _mark_cabins_offline(self) -> None:
        """A hub that died held sockets it no longer has: every cabin reconnects anyway."""
        now = datetime.now(UTC)
        async with self.db.transaction() as s:
            await s.execute(
                update(Cabin).where(Cabin.online.is_(True)).values(online=False, offline_since=now)
            )

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        for part in self.parts:
            app.add_routes(part.routes())
        app.add_routes([web.static("/static", STATIC), web.get("/healthz", self._healthz)])
        app.on_shutdown.append(self._close_sockets)
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            async with self.db.read() as s:
                await s.execute(select(1))
        except Exception:  # the store is down: say so, a load balancer takes us out
            return web.json_response({"ok": False, "store": "unreachable"}, status=503)
        return web.json_response({"ok": True, "cabins": len(self.gateway.connections)})

    async def _close_sockets(self, app: web.Application) -> None:
        await self.gateway.stop()
        await self.alerts.stop()
        self.records.stop()
        await self.console.close_sockets()
        await self.fleet.close_sockets()

    async def _serve(self) -> None:
        s = self.settings
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        context = None
        if s.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(s.tls.certificate, s.tls.private_key)
        site = web.TCPSite(self._runner, s.listen_host, s.listen_port, ssl_context=context)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None)
        if not sockets:
            raise RuntimeError("the HTTP server has no listening socket")
        port = int(sockets[0].getsockname()[1])
        host = s.listen_host if ":" not in s.listen_host else f"[{s.listen_host}]"
        self.url = f"{'https' if context else 'http'}://{host}:{port}"
        if self.runtime_file is not None:
            partial = self.runtime_file.with_suffix(".tmp")
            partial.write_text(json.dumps({"url": self.url, "pid": os.getpid()}))
            partial.replace(self.runtime_file)

    async def stop(self) -> None:
        self.notifier.stopping()
        self.gc_pauses.uninstall()
        # Each step bounded on its own: sockets slow to close (a loaded machine) must not
        # leave the tasks (the writer's thread among them) and the router running.
        try:
            if self._runner is not None:
                await _bounded(self._runner.cleanup(), "closing the sockets", SOCKETS_CLOSE_S)
            self.records.stop()
            await _bounded(self.ctx.tasks.cancel_all(grace_s=1.0), "stopping the tasks", 2.0)
            await _bounded(self.ctx.router.close(), "closing the router", 2.0)
        finally:
            await self.db.close()
            if self.runtime_file is not None:
                self.runtime_file.unlink(missing_ok=True)
        log.info("hub stopped")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_requested.set)
        try:
            await self.start()
            await self.stop_requested.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.stop()


async def _bounded(step: Coroutine[Any, Any, None], what: str, bound_s: float) -> None:
    try:
        async with asyncio.timeout(bound_s):
            await step
    except TimeoutError:
        log.warning("hub shutdown: %s took longer than %.0f s", what, bound_s)
