"""The fleet dashboard: its page (/fleet), its JSON (/api/v1/fleet) and its live socket
(/fleet/ws), for the "fleet" permission (technicians, administrators). A principal sees
the cabins of their sites; nothing of a patient is read here (hub/fleet/view.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.auth.roles import allowed
from hub.auth.sessions import COOKIE_NAME
from hub.context import HubContext
from hub.fleet import view
from hub.fleet.socket import FleetSocket
from hub.web.common import json_error, origin_ok, page
from hub.web.guard import principal_of, refuse, require

STATIC = Path(__file__).resolve().parent / "static"
# The browser sends nothing on the dashboard's socket.
MAX_MESSAGE_BYTES = 4 * 1024
# aiohttp pings the browser this often and closes a socket that stopped answering.
WS_HEARTBEAT_S = 20.0
FORBIDDEN = "Accès réservé aux techniciens et aux administrateurs."


class FleetRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/fleet", self.dashboard),
            web.get("/fleet/ws", self.websocket),
            web.get("/api/v1/fleet", self.fleet),
            web.static("/fleet/static", STATIC),
        ]

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            raise web.HTTPSeeOther("/login")
        if not allowed(who.roles, "fleet"):
            await refuse(self.ctx, who, request, "access:fleet", request.path)
            return json_error(403, FORBIDDEN)
        return page(STATIC / "fleet.html")

    async def fleet(self, request: web.Request) -> web.StreamResponse:
        who = await require(self.ctx, request, "fleet")
        async with self.ctx.db.read() as s:
            fleet = await view.load_fleet(s, self.ctx.settings, who.sites, self.ctx.clock())
        response = web.json_response({**fleet.model_dump(mode="json"), "viewer": view.viewer(who)})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        who = await require(self.ctx, request, "fleet")
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=WS_HEARTBEAT_S)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            await FleetSocket(self.ctx, who, ws, request.cookies.get(COOKIE_NAME, "")).run()
        finally:
            self.sockets.discard(ws)
        return ws

    async def close_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close(message=b"hub stopping")
