"""One technician's live dashboard socket (/fleet/ws).

It sends ``fleet`` (the whole view) at once, then ``cabins`` (the views of the cabins
that changed, and the open alerts) after each change on the fleet topic. The router's
message only marks the cabin as changed: the views are read by this socket's own task,
so a slow browser or store never holds up the cabin gateway that published it. Changes
that arrive together give one read and one message. The browser sends nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from hub.auth.sessions import Principal, principal
from hub.cabins.gateway import FLEET_TOPIC
from hub.context import HubContext
from hub.fleet import view

log = logging.getLogger(__name__)

# An account disabled or logged out elsewhere loses its open dashboard within this time.
SESSION_RECHECK_S = 30.0
# The least time between two updates of one dashboard.
COALESCE_S = 0.2


class FleetSocket:
    def __init__(
        self, ctx: HubContext, who: Principal, ws: web.WebSocketResponse, token: str
    ) -> None:
        self.ctx = ctx
        self.who = who
        self.ws = ws
        self.token = token
        self._changed: set[str] = set()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        self.ctx.router.subscribe(FLEET_TOPIC, self._on_fleet)
        sender = self.ctx.tasks.spawn(self._send_changes(), "fleet-socket")
        recheck = self.ctx.tasks.spawn(self._recheck_session(), "fleet-session-check")
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._send({"type": "error", "message": "ce canal ne reçoit rien"})
        finally:
            self.ctx.router.unsubscribe(FLEET_TOPIC, self._on_fleet)
            for task in (sender, recheck):
                task.cancel()
            await asyncio.gather(sender, recheck, return_exceptions=True)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(message, ensure_ascii=False))

    async def _on_fleet(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "cabin_changed" and isinstance(message.get("cabin_id"), str):
            self._changed.add(message["cabin_id"])
        elif kind == "alerts_changed" and isinstance(message.get("cabin_ids"), list):
            self._changed.update(c for c in message["cabin_ids"] if isinstance(c, str))
        else:
            return
        self._wake.set()

    async def _send_changes(self) -> None:
        async with self.ctx.db.read() as s:
            fleet = await view.load_fleet(s, self.ctx.settings, self.who.sites, self.ctx.clock())
        await self._send(
            {"type": "fleet", **fleet.model_dump(mode="json"), "viewer": view.viewer(self.who)}
        )
        while True:
            await self._wake.wait()
            self._wake.clear()
            changed, self._changed = self._changed, set()
            try:
                await self._send_cabins(changed)
            except Exception:  # the store may be briefly away: the next change sends again
                log.exception("fleet socket: reading the changed cabins failed")
            # A burst of changes (a cabin reconnecting, every cabin after a hub restart)
            # gives one read per pause, not one per change.
            await asyncio.sleep(COALESCE_S)

    async def _send_cabins(self, changed: set[str]) -> None:
        async with self.ctx.db.read() as s:
            cabins = await view.cabin_views(s, self.ctx.settings, self.who.sites, changed)
            alerts = await view.open_alerts(s, self.who.sites)
        await self._send(
            {
                "type": "cabins",
                "now": self.ctx.clock().isoformat(),
                "cabins": [c.model_dump(mode="json") for c in cabins],
                "alerts": [a.model_dump(mode="json") for a in alerts],
            }
        )

    async def _recheck_session(self) -> None:
        while True:
            await asyncio.sleep(SESSION_RECHECK_S)
            async with self.ctx.db.read() as s:
                still = await principal(s, self.token, self.ctx.clock())
            if still is None:
                await self._send(
                    {"type": "error", "message": "Votre session a pris fin : reconnectez-vous."}
                )
                await self.ws.close()
                return
