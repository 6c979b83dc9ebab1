"""The cabin daemon: one asyncio process that owns the lifecycle and every component."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.shared.sdnotify import Notifier, watchdog_interval, watchdog_loop
from hub.shared.tasks import TaskSupervisor
from hygiene import log as hygiene_log
from kiosk.api import build_app
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus
from kiosk.component import Component, Context
from kiosk.heap_trim import trim_between_patients
from kiosk.hours_keeper import keep_hours
from kiosk.lifecycle import Lifecycle, LifecycleStore
from kiosk.settings import CabinSettings
from kiosk.site_hours import SiteHours
from kiosk.ui_auth import create_token
from kiosk.wiring import ComponentFactory, component_factories

log = logging.getLogger(__name__)

# systemd's default TimeoutStopSec is 90 s, but ours is 10 s (kiosk.service): leave
# 5 s for everything, then exit anyway.
# Shutdown's steps, each bounded (see stop()).
API_CLOSE_S = 2.0
COMPONENTS_STOP_S = 4.0
COMPONENT_START_TIMEOUT_S = 30.0


class Daemon:
    def __init__(
        self,
        settings: CabinSettings,
        *,
        notifier: Notifier | None = None,
        extra_components: Sequence[ComponentFactory] = (),
    ) -> None:
        self.settings = settings
        self.notifier = notifier or Notifier()
        self.stop_requested = asyncio.Event()
        self.ctx: Context | None = None
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._started: list[Component] = []
        self.extra_components = list(extra_components)

    @property
    def runtime_file(self) -> Path:
        return self.settings.storage.state_dir / "runtime.json"

    async def start(self) -> Context:
        s = self.settings
        s.storage.state_dir.mkdir(parents=True, exist_ok=True)
        bus = EventBus()
        store = LifecycleStore(s.storage.database)
        hours = SiteHours(s.storage.database, s.hours, bus)
        lifecycle = Lifecycle(store, bus, is_open=hours.is_open)
        lifecycle.recover()
        ctx = Context(
            settings=s,
            bus=bus,
            lifecycle=lifecycle,
            appointments=AppointmentStore(s.storage.database),
            tasks=TaskSupervisor(),
            ui_token=create_token(s.storage.state_dir),
            hours=hours,
        )
        self.ctx = ctx
        for factory in [*component_factories(), *self.extra_components]:
            component = factory(ctx)
            ctx.components[component.name] = component
        for component in ctx.components.values():
            async with asyncio.timeout(COMPONENT_START_TIMEOUT_S):
                await component.start()
            self._started.append(component)
        await self._serve(ctx)
        ctx.tasks.spawn(keep_hours(lifecycle, hours), "opening-hours")
        ctx.tasks.spawn(self._purge_loop(ctx), "retention-purge")
        ctx.tasks.spawn(trim_between_patients(bus), "heap-trim")
        interval = watchdog_interval()
        if interval is not None:
            ctx.tasks.spawn(watchdog_loop(self.notifier, interval), "watchdog")
        self.notifier.ready(f"serving {self.url}, state {lifecycle.state.value}")
        log.info("cabin %s ready on %s, state %s", s.site.cabin_id, self.url, lifecycle.state.value)
        return ctx

    async def _serve(self, ctx: Context) -> None:
        net = self.settings.network
        app = build_app(ctx)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, net.listen_host, net.listen_port)
        await site.start()
        port = _bound_port(site)
        host = net.listen_host if ":" not in net.listen_host else f"[{net.listen_host}]"
        self.url = f"http://{host}:{port}"
        # Written whole then renamed: a reader never sees a half-written file.
        partial = self.runtime_file.with_suffix(".tmp")
        partial.write_text(json.dumps({"url": self.url, "pid": os.getpid()}))
        partial.replace(self.runtime_file)

    async def _purge_loop(self, ctx: Context) -> None:
        retention = self.settings.retention
        while True:
            now = ctx.lifecycle.clock()
            removed = ctx.appointments.purge(now - timedelta(days=retention.appointments_days))
            if removed:
                log.info("retention: purged %d appointments", removed)
            sessions_before = now - timedelta(days=retention.sessions_days)
            removed = ctx.lifecycle.store.purge_sessions(sessions_before)
            if removed:
                log.info("retention: purged %d session records", removed)
            removed = ctx.lifecycle.store.purge_transitions(sessions_before)
            if removed:
                log.info("retention: purged %d transitions", removed)
            hygiene_before = now - timedelta(days=365 * retention.hygiene_log_years)
            removed = hygiene_log.purge(ctx.lifecycle.store.conn, hygiene_before)
            if removed:
                log.info("retention: purged %d hygiene log entries", removed)
            await asyncio.sleep(retention.purge_interval_minutes * 60)

    async def stop(self) -> None:
        self.notifier.stopping()
        ctx = self.ctx
        # Each step bounded on its own (8 s at most, within systemd's TimeoutStopSec=10s):
        # a connection slow to close must not leave the components running.
        try:
            if self._runner is not None:
                await _bounded(self._runner.cleanup(), "closing the API", API_CLOSE_S)
            await _bounded(self._stop_components(), "stopping the components", COMPONENTS_STOP_S)
            if ctx is not None:
                await _bounded(ctx.tasks.cancel_all(grace_s=1.0), "stopping the tasks", 2.0)
        finally:
            if ctx is not None:
                ctx.appointments.close()
                ctx.lifecycle.store.close()
                if ctx.hours is not None:
                    ctx.hours.close()
            self.runtime_file.unlink(missing_ok=True)
        log.info("stopped")

    async def _stop_components(self) -> None:
        for component in reversed(self._started):
            try:
                await component.stop()
            except Exception:
                log.exception("component %s failed to stop", component.name)

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


def _bound_port(site: web.TCPSite) -> int:
    """The port the site listens on (the configured one, or the one the OS chose for 0)."""
    server = site._server
    sockets = getattr(server, "sockets", None)
    if not sockets:
        raise RuntimeError("the HTTP server has no listening socket")
    return int(sockets[0].getsockname()[1])


async def _bounded(step: Coroutine[Any, Any, None], what: str, bound_s: float) -> None:
    try:
        async with asyncio.timeout(bound_s):
            await step
    except TimeoutError:
        log.warning("shutdown: %s took longer than %.0f s", what, bound_s)
