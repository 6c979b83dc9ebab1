"""Booking's part of the hub: the API and the coordinator's page."""

from __future__ import annotations

from aiohttp import web

from hub.booking.api import BookingApi
from hub.booking.web import BookingPage
from hub.context import HubContext


class BookingRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.api = BookingApi(ctx)
        self.page = BookingPage(ctx)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [*self.api.routes(), *self.page.routes()]
