"""The "hygiene" component: drives the door lock from the lifecycle, runs the referent
flow and its API, the escalation and the optional badge reader.

The lock is for ENTRY only (invariant 4): engaged from the end of a patient session until
its disinfection is logged (awaiting_disinfection, cleaning) and while out of service;
released in idle, closed and during a patient's own session. It follows the committed
state: StateChanged is published after the commit, so the lock releases only once the
log entry (committed with the session's release) is on disk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from hygiene import log as hlog
from hygiene.badge import run_badge_reader
from hygiene.errors import HygieneError, LockError
from hygiene.escalation import Escalator, Notifier, make_notifier
from hygiene.flow import HygieneFlow
from hygiene.lock import DoorLock, LockState, make_lock
from hygiene.routes import HygieneApi
from kiosk.bus import Subscription
from kiosk.component import Component, Context
from kiosk.db import connect
from kiosk.lifecycle import State, StateChanged, TransitionRefused

log = logging.getLogger(__name__)

ENGAGED_STATES = frozenset({State.AWAITING_DISINFECTION, State.CLEANING, State.OUT_OF_SERVICE})
# A lock command that failed is retried this often until the hardware answers.
LOCK_RETRY_S = 5.0


class HygieneComponent(Component):
    name = "hygiene"

    def __init__(
        self,
        ctx: Context,
        *,
        clock: Callable[[], datetime] | None = None,
        lock: DoorLock | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        super().__init__(ctx)
        self.clock = clock or ctx.lifecycle.clock
        self.conn = connect(ctx.settings.storage.database)
        hlog.ensure_schema(self.conn)
        self.flow = HygieneFlow(ctx, self.conn, self.clock)
        self.lock = lock or make_lock(ctx.settings.hygiene.lock)
        self.escalator = Escalator(
            ctx, notifier or make_notifier(ctx.settings.hygiene.escalation), self.clock
        )
        self.api = HygieneApi(self)
        self._lock_mutex = asyncio.Lock()
        self._changes: Subscription[StateChanged] | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.escalation_task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        self._changes = self.ctx.bus.subscribe(StateChanged)
        self.flow.resume_after_restart()
        try:
            await self.lock.open()
        except LockError as exc:
            log.error("hygiene: door lock unavailable: %s", exc)  # noqa: TRY400 - no traceback
        await self.apply_lock()
        spawn = self.ctx.tasks.spawn
        self.escalation_task = spawn(self.escalator.run(), "hygiene-escalation")
        self._tasks = [
            spawn(self._follow_lifecycle(self._changes), "hygiene-lock"),
            self.escalation_task,
        ]
        port = self.ctx.settings.hygiene.badge_reader_port
        if port:
            baud = self.ctx.settings.hygiene.badge_reader_baudrate
            self._tasks.append(spawn(run_badge_reader(port, baud, self._on_badge), "badge"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._changes is not None:
            self._changes.close()
        await self.lock.close()
        self.conn.close()

    def wanted(self) -> LockState:
        engaged = self.ctx.lifecycle.state in ENGAGED_STATES
        return LockState.ENGAGED if engaged else LockState.RELEASED

    async def apply_lock(self) -> None:
        async with self._lock_mutex:
            target = self.wanted()
            if self.lock.state is target:
                return
            try:
                if target is LockState.ENGAGED:
                    await self.lock.engage()
                else:
                    await self.lock.release()
            except LockError as exc:
                self.lock.state = LockState.UNKNOWN
                log.error("hygiene: door lock: %s", exc)  # noqa: TRY400 - no traceback
                return
            log.info("hygiene: door lock %s (%s)", target.value, self.ctx.lifecycle.state.value)

    async def _follow_lifecycle(self, changes: Subscription[StateChanged]) -> None:
        while True:
            retry = LOCK_RETRY_S if self.lock.state is LockState.UNKNOWN else None
            try:
                async with asyncio.timeout(retry):
                    await changes.get()
            except TimeoutError:
                pass
            if self.ctx.lifecycle.state is not State.CLEANING:
                self.flow.cleaning = None  # left cleaning some other way (out of service...)
            try:
                await self.apply_lock()
            except Exception:  # a driver bug must not stop the lock from following the state
                self.lock.state = LockState.UNKNOWN
                log.exception("hygiene: door lock driver failed")

    async def _on_badge(self, uid: str) -> None:
        if self.ctx.lifecycle.state is not State.AWAITING_DISINFECTION:
            return
        try:
            referent = await self.flow.login(badge=uid)
        except (HygieneError, TransitionRefused) as exc:
            log.warning("hygiene: badge refused: %s", type(exc).__name__)
            return
        log.info("hygiene: referent %s logged in by badge", referent.id)
        await self.apply_lock()

    def status(self) -> dict[str, Any]:
        since = self.escalator.awaiting_since()
        until = self.flow.lockout.locked_until("referent")
        return {
            "lock": self.lock.state.value,
            "driver": self.lock.driver,
            "fail_mode": self.lock.fail_mode,
            "door_closed": self.lock.door_closed(),
            "awaiting_since": None if since is None else since.isoformat(),
            "escalated": self.escalator.escalated,
            "checklist_steps": len(self.flow.checklist()["steps"]),
            "referent_active": self.flow.cleaning is not None,
            "lockout_until": None if until is None else until.isoformat(),
        }

    def routes(self) -> list[web.AbstractRouteDef]:
        return self.api.routes()


def create(ctx: Context) -> Component:
    return HygieneComponent(ctx)
