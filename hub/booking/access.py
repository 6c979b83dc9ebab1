"""Who may book: a booking platform with its bearer token, or a coordinator's browser
session (two factors given) for the sites of the account. Anyone else is refused: a
doctor or technician gets 403, audited (hub/web/guard.py); a wrong or revoked token gets
401, audited under the token's name when it is a revoked one. A browser's write must
come from the hub's own page (Origin); a token's request is not a browser's."""

from __future__ import annotations

from aiohttp import web

from hub import audit
from hub.auth.sessions import COOKIE_NAME
from hub.booking import tokens
from hub.booking.bookings import Actor
from hub.context import HubContext
from hub.web.common import client_of, origin_ok
from hub.web.guard import Denied, require

SAFE_METHODS = frozenset({"GET", "HEAD"})


async def actor_of(ctx: HubContext, request: web.Request) -> Actor:
    header = request.headers.get("Authorization")
    if header is not None:
        return await _token_actor(ctx, request, header)
    if COOKIE_NAME not in request.cookies:
        raise Denied(
            401,
            "Authentification requise : un jeton (Authorization: Bearer ...) "
            "ou une session de coordinateur.",
        )
    who = await require(ctx, request, "booking")
    if request.method not in SAFE_METHODS and not origin_ok(request, ctx.settings):
        raise Denied(403, "Origine refusée : cette demande ne vient pas de la page du hub.")
    return Actor(
        name=who.username,
        role="coordinator",
        sites=who.sites,
        client=client_of(request),
        via="session",
    )


async def _token_actor(ctx: HubContext, request: web.Request, header: str) -> Actor:
    token = tokens.bearer_of(header)
    check = tokens.TokenCheck(None)
    if token is not None:
        async with ctx.db.read() as s:
            check = await tokens.authenticate(s, token)
    caller = check.caller
    if caller is None:
        async with ctx.db.transaction() as s:
            audit.record(
                s, at=ctx.clock(), actor=check.known_name or "?", role="api",
                action="api_token", target=request.path, outcome="refused",
                client=client_of(request), revoked=check.known_name is not None,
            )  # fmt: skip
        raise Denied(401, "Jeton d'accès inconnu ou révoqué.")
    return Actor(
        name=caller.name,
        role="api",
        sites=caller.sites,
        client=client_of(request),
        via="token",
    )


async def refuse_site(ctx: HubContext, actor: Actor, request: web.Request, site: str) -> None:
    """Audits a request for a site the actor does not serve."""
    async with ctx.db.transaction() as s:
        audit.record(
            s, at=ctx.clock(), actor=actor.name, role=actor.role, action="booking_site",
            target=request.path, outcome="refused", client=actor.client, site=site,
            via=actor.via,
        )  # fmt: skip
