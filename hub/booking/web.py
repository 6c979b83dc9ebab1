"""The coordinator's screen at /booking: a page and its script, which speak the booking
API with the browser's session. Only a coordinator reaches it (others: 403, audited);
the sites it shows are the account's."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from hub.auth.roles import allowed
from hub.context import HubContext
from hub.web.common import json_error, page
from hub.web.guard import principal_of, refuse

STATIC = Path(__file__).resolve().parent / "static"


class BookingPage:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/booking", self.page),
            web.static("/booking/static", STATIC),
        ]

    async def page(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            raise web.HTTPSeeOther("/login")
        if not allowed(who.roles, "booking"):
            await refuse(self.ctx, who, request, "access:booking", request.path)
            return json_error(403, "Accès réservé aux coordinateurs.")
        return page(STATIC / "booking.html")
