"""Who is asking, and may they: every page and route of the hub goes through ``require``.
A refusal to a logged-in person is audited (a technician asking for patient data, a
doctor for another site's patient)."""

from __future__ import annotations

from aiohttp import web

from hub import audit
from hub.auth.roles import Permission, allowed
from hub.auth.sessions import COOKIE_NAME, Principal, principal
from hub.context import HubContext
from hub.web.common import client_of, json_error


class Denied(web.HTTPException):
    """An HTTP refusal carrying a JSON body (aiohttp raises it as the response)."""

    def __init__(self, status: int, message: str) -> None:
        response = json_error(status, message)
        self.status_code = status
        super().__init__(text=response.text, content_type="application/json")


async def principal_of(ctx: HubContext, request: web.Request) -> Principal | None:
    async with ctx.db.read() as s:
        return await principal(s, request.cookies.get(COOKIE_NAME), ctx.clock())


async def require(ctx: HubContext, request: web.Request, permission: Permission) -> Principal:
    who = await principal_of(ctx, request)
    if who is None or not who.second_factor:
        raise Denied(401, "Connectez-vous d'abord.")
    if not allowed(who.roles, permission):
        await refuse(ctx, who, request, f"access:{permission}", request.path)
        raise Denied(403, "Accès refusé : votre rôle ne donne pas accès à cette page.")
    return who


async def refuse(
    ctx: HubContext, who: Principal, request: web.Request, action: str, target: str, **detail: str
) -> None:
    async with ctx.db.transaction() as s:
        audit.record(
            s,
            at=ctx.clock(),
            actor=who.username,
            role=who.role,
            action=action,
            target=target,
            outcome="refused",
            client=client_of(request),
            **detail,
        )
