"""The doctor console's page and socket."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.auth.roles import allowed
from hub.auth.sessions import COOKIE_NAME
from hub.console.doctor_socket import ConsoleRegistry, DoctorSocket
from hub.context import HubContext
from hub.web.common import client_of, json_error, origin_ok, page
from hub.web.guard import principal_of, refuse

STATIC = Path(__file__).resolve().parent / "static"
# A signaling message carries at most an SDP or a prescription (console_messages).
MAX_MESSAGE_BYTES = 256 * 1024


class ConsoleRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.registry = ConsoleRegistry()
        self.sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/doctor", self.console),
            web.get("/doctor/ws", self.websocket),
            web.static("/doctor/static", STATIC),
        ]

    async def console(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            raise web.HTTPSeeOther("/login")
        if not allowed(who.roles, "console"):
            await refuse(self.ctx, who, request, "access:console", request.path)
            return json_error(403, "Accès réservé aux médecins.")
        return page(STATIC / "console.html")

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            return json_error(401, "connectez-vous d'abord")
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        if not allowed(who.roles, "console"):
            await refuse(self.ctx, who, request, "access:console", request.path)
            return json_error(403, "Accès réservé aux médecins.")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=20.0)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            socket = DoctorSocket(
                self.ctx,
                self.registry,
                who,
                ws,
                token=request.cookies.get(COOKIE_NAME, ""),
                client=client_of(request),
            )
            await socket.run()
        finally:
            self.sockets.discard(ws)
        return ws

    async def close_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close(message=b"hub stopping")
