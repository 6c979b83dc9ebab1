"""The booking API under /api/v1/, for a booking platform (bearer token) and for the
coordinator's screen (its browser session): the same routes, the same checks.

    GET  /api/v1/sites                              the caller's sites
    GET  /api/v1/sites/{site}/slots?date=AAAA-MM-JJ the day's slots not begun, full ones too
    GET  /api/v1/sites/{site}/bookings?date=...     the day's bookings, cancelled ones too
    POST /api/v1/bookings                           book: 201 and the booking with its code
    GET  /api/v1/bookings/{id}                      one booking
    POST /api/v1/bookings/{id}/cancel               cancel: the site's cabins are told

Times are ISO 8601 with the site's offset; ``date`` defaults to the site's today.
Refusals are JSON: ``error`` (French, to show as it is), ``code``, and ``problems``
(field, message) for bad fields. Answers carry patient data: never cached."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from hub.booking import bookings
from hub.booking.access import actor_of, refuse_site
from hub.booking.bookings import Actor
from hub.booking.errors import (
    BadRequest,
    BookingError,
    BookingInvalid,
    BookingNotFound,
    NotYourSite,
    Problem,
)
from hub.booking.form import parse_booking
from hub.booking.slots import HORIZON, closed_reason, local_day, within_horizon
from hub.cabins.gateway import BOOKINGS_TOPIC
from hub.context import HubContext
from hub.settings import SiteConfig
from hub.store.models import Booking
from hub.web.common import MAX_JSON_BODY

log = logging.getLogger(__name__)

Handler = Callable[[web.Request, Actor], Awaitable[web.Response]]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_STORE = {"Cache-Control": "no-store"}


class BookingApi:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[web.AbstractRouteDef]:
        g = self._guarded
        return [
            web.get("/api/v1/sites", g(self.sites)),
            web.get("/api/v1/sites/{site}/slots", g(self.slots)),
            web.get("/api/v1/sites/{site}/bookings", g(self.day)),
            web.post("/api/v1/bookings", g(self.book)),
            web.get("/api/v1/bookings/{booking}", g(self.one)),
            web.post("/api/v1/bookings/{booking}/cancel", g(self.cancel)),
        ]

    def _guarded(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def guarded(request: web.Request) -> web.Response:
            actor = await actor_of(self.ctx, request)
            try:
                return await handler(request, actor)
            except BookingError as exc:
                return web.json_response(exc.to_json(), status=exc.status, headers=NO_STORE)

        return guarded

    # -- reading ---------------------------------------------------------------------

    async def sites(self, request: web.Request, actor: Actor) -> web.Response:
        served = [s for s in self.ctx.settings.sites if actor.serves(s.code)]
        async with self.ctx.db.read() as s:
            out = [
                {
                    "code": site.code,
                    "name": site.name,
                    "address": site.address,
                    "timezone": site.hours.timezone,
                    "consultation_minutes": site.consultation_minutes,
                    "capacity": await bookings.capacity(s, site.code),
                    "always_open": site.hours.always_open,
                    "weekly": site.hours.weekly.model_dump(),
                }
                for site in served
            ]
        return web.json_response({"sites": out}, headers=NO_STORE)

    async def slots(self, request: web.Request, actor: Actor) -> web.Response:
        site = await self._site(request, actor, request.match_info["site"])
        now = self.ctx.clock()
        day = _day_of(request, site, now)
        async with self.ctx.db.read() as s:
            slots = await bookings.day_slots(s, site, day, now)
        notice = closed_reason(site, day)
        if notice is None and not within_horizon(site, day, now):
            notice = f"Les rendez-vous se prennent {HORIZON.days} jours à l'avance au plus."
        elif notice is None and not slots:
            notice = "Les créneaux de ce jour sont passés."
        return web.json_response(
            {
                "site": site.code,
                "date": day.isoformat(),
                "timezone": site.hours.timezone,
                "notice": notice,
                "slots": [bookings.slot_json(slot, site) for slot in slots],
            },
            headers=NO_STORE,
        )

    async def day(self, request: web.Request, actor: Actor) -> web.Response:
        site = await self._site(request, actor, request.match_info["site"])
        day = _day_of(request, site, self.ctx.clock())
        async with self.ctx.db.read() as s:
            rows = await bookings.day_bookings(s, site, day)
        return web.json_response(
            {
                "site": site.code,
                "date": day.isoformat(),
                "bookings": [bookings.booking_json(b, site) for b in rows],
            },
            headers=NO_STORE,
        )

    async def one(self, request: web.Request, actor: Actor) -> web.Response:
        booking_id = request.match_info["booking"]
        async with self.ctx.db.read() as s:
            site_code = await bookings.site_of_booking(s, booking_id)
        site = await self._site(request, actor, site_code)  # may audit: not in a session
        async with self.ctx.db.read() as s:
            booking = await s.get(Booking, booking_id)
        if booking is None:
            raise BookingNotFound("Rendez-vous introuvable.")
        return web.json_response(bookings.booking_json(booking, site), headers=NO_STORE)

    # -- changing --------------------------------------------------------------------

    async def book(self, request: web.Request, actor: Actor) -> web.Response:
        data = await _json(request)
        now = self.ctx.clock()
        code = data.get("site") if isinstance(data, dict) else None
        site = self.ctx.settings.site(code) if isinstance(code, str) else None
        problems: list[Problem] = []
        if site is None and isinstance(code, str) and code:
            known = ", ".join(s.code for s in self.ctx.settings.sites)
            problems.append(Problem("site", f"Site inconnu : choisissez parmi {known}"))
        try:
            today = local_day(site, now) if site else now.astimezone(UTC).date()
            request_in = parse_booking(data, today)
        except BookingInvalid as exc:
            exc.problems[:0] = problems
            raise
        if problems:
            raise BookingInvalid(
                "Le rendez-vous n'est pas pris : corrigez les champs signalés.", problems=problems
            )
        assert site is not None  # a known code passed the checks
        await self._check_serves(request, actor, site.code)
        async with self.ctx.db.transaction() as s:
            booking = await bookings.create(s, site, request_in, actor, now)
        log.info("booking %s made at %s by %s", booking.id, site.code, actor.name)
        await self.ctx.router.publish(BOOKINGS_TOPIC, {"site": site.code})
        return web.json_response(bookings.booking_json(booking, site), status=201, headers=NO_STORE)

    async def cancel(self, request: web.Request, actor: Actor) -> web.Response:
        booking_id = request.match_info["booking"]
        async with self.ctx.db.read() as s:
            site_code = await bookings.site_of_booking(s, booking_id)
        site = await self._site(request, actor, site_code)
        async with self.ctx.db.transaction() as s:
            booking = await bookings.cancel(s, site, booking_id, actor, self.ctx.clock())
        log.info("booking %s cancelled at %s by %s", booking.id, site.code, actor.name)
        await self.ctx.router.publish(BOOKINGS_TOPIC, {"site": site.code})
        return web.json_response(bookings.booking_json(booking, site), headers=NO_STORE)

    # -- helpers ---------------------------------------------------------------------

    async def _site(self, request: web.Request, actor: Actor, code: str) -> SiteConfig:
        site = self.ctx.settings.site(code)
        if site is None:
            raise BookingNotFound(f"Site inconnu : {code[:16]}.")
        await self._check_serves(request, actor, site.code)
        return site

    async def _check_serves(self, request: web.Request, actor: Actor, code: str) -> None:
        if not actor.serves(code):
            await refuse_site(self.ctx, actor, request, code)
            raise NotYourSite(f"Vous ne gérez pas les rendez-vous du site {code}.")


def _day_of(request: web.Request, site: SiteConfig, now: datetime) -> date:
    text = request.query.get("date")
    if text is None:
        return local_day(site, now)
    invalid = BookingInvalid(
        "Date invalide.", problems=[Problem("date", "Date attendue au format AAAA-MM-JJ")]
    )
    if not ISO_DATE.match(text):
        raise invalid
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid from None


async def _json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise BadRequest("Requête trop grande.")
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("Le corps de la requête n'est pas du JSON.") from None
