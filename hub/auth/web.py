"""The login pages and routes, the same for every role: password, then the second factor
(enrolled at the first login), then the role's own page."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub import audit
from hub.auth import login
from hub.auth.ratelimit import TooManyAttempts
from hub.auth.roles import home
from hub.auth.sessions import (
    COOKIE_NAME,
    Principal,
    close_session,
    open_session,
    second_factor_given,
    token_hash,
)
from hub.context import HubContext
from hub.store.models import Account
from hub.web.common import (
    BodyInvalid,
    body_of,
    client_of,
    json_error,
    origin_ok,
    page,
    set_session_cookie,
)
from hub.web.guard import principal_of

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
# The demo's accounts (config/demo-hub.toml's `kiosk demo` creates them), by role.
DEMO_USERNAMES = {"doctor": "demo", "coordinator": "coordination", "technician": "technicien"}


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=6, max_length=20)


class LoginRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self.root),
            web.get("/login", self.page),
            web.post("/login/password", self.password),
            web.get("/login/enrolment", self.enrolment),
            web.post("/login/enrolment", self.enrol),
            web.post("/login/code", self.code),
            web.post("/logout", self.logout),
            web.get("/demo-login", self.demo_login),
            web.static("/login/static", STATIC),
        ]

    async def root(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        target = home(who.roles) if who is not None and who.second_factor else "/login"
        raise web.HTTPSeeOther(target)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return page(STATIC / "login.html")

    async def password(self, request: web.Request) -> web.StreamResponse:
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        try:
            body = await body_of(request, PasswordIn)
            ok = await login.password_step(
                self.ctx, body.username, body.password, client_of(request)
            )
        except BodyInvalid as exc:
            return exc.response
        except TooManyAttempts as exc:
            return _too_many(exc)
        except login.LoginRefused as exc:
            return json_error(exc.status, exc.message)
        response = web.json_response({"next": "code" if ok.enrolled else "enrol"})
        set_session_cookie(response, ok.token, self.ctx.settings, self._max_age)
        return response

    @property
    def _max_age(self) -> int:
        return self.ctx.settings.session_hours * 3600

    async def _half_logged_in(self, request: web.Request) -> Principal | web.Response:
        if request.method != "GET" and not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        who = await principal_of(self.ctx, request)
        if who is None:
            return json_error(401, "Session expirée : saisissez à nouveau votre mot de passe.")
        return who

    async def enrolment(self, request: web.Request) -> web.StreamResponse:
        who = await self._half_logged_in(request)
        if isinstance(who, web.Response):
            return who
        try:
            enrolment = await login.start_enrolment(self.ctx, who)
        except login.LoginRefused as exc:
            return json_error(exc.status, exc.message)
        return web.json_response(
            {"secret": enrolment.secret, "uri": enrolment.uri, "qr_svg": enrolment.qr_svg},
            headers={"Cache-Control": "no-store"},
        )

    async def enrol(self, request: web.Request) -> web.StreamResponse:
        who = await self._half_logged_in(request)
        if isinstance(who, web.Response):
            return who
        try:
            body = await body_of(request, CodeIn)
            codes = await login.finish_enrolment(self.ctx, who, body.code, client_of(request))
        except BodyInvalid as exc:
            return exc.response
        except login.LoginRefused as exc:
            return json_error(exc.status, exc.message)
        return web.json_response(
            {"recovery_codes": codes, "next": home(who.roles)},
            headers={"Cache-Control": "no-store"},
        )

    async def code(self, request: web.Request) -> web.StreamResponse:
        who = await self._half_logged_in(request)
        if isinstance(who, web.Response):
            return who
        try:
            body = await body_of(request, CodeIn)
            target = await login.code_step(self.ctx, who, body.code, client_of(request))
        except BodyInvalid as exc:
            return exc.response
        except TooManyAttempts as exc:
            return _too_many(exc)
        except login.LoginRefused as exc:
            return json_error(exc.status, exc.message)
        return web.json_response({"next": target})

    async def logout(self, request: web.Request) -> web.StreamResponse:
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        async with self.ctx.db.transaction() as s:
            await close_session(s, request.cookies.get(COOKIE_NAME))
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE_NAME, path="/")
        return response

    async def demo_login(self, request: web.Request) -> web.StreamResponse:
        """Demo only: both factors skipped for the demo accounts, from the printed link.
        The token exists only in the `kiosk demo` process; no configuration sets it."""
        expected = self.ctx.demo_login_token
        if expected is None:
            raise web.HTTPNotFound()
        if not hmac.compare_digest(request.query.get("token", "").encode(), expected.encode()):
            return json_error(403, "lien de démonstration invalide")
        username = DEMO_USERNAMES.get(request.query.get("role", "doctor"))
        if username is None:
            return json_error(404, "rôle de démonstration inconnu")
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as s:
            account = await s.scalar(select(Account).where(Account.username == username))
            if account is None:
                return json_error(503, f"aucun compte de démonstration '{username}'")
            token = await open_session(
                s, account, now, timedelta(hours=self.ctx.settings.session_hours)
            )
            await s.flush()
            await second_factor_given(s, token_hash(token), now)
            audit.record(
                s, at=now, actor=username, role=account.roles[0], action="login",
                client=client_of(request), method="demo link",
            )  # fmt: skip
            target = home(list(account.roles))
        response = web.HTTPSeeOther(target)
        set_session_cookie(response, token, self.ctx.settings, self._max_age)
        raise response


def _too_many(exc: TooManyAttempts) -> web.Response:
    response = json_error(429, "Trop d'essais. Réessayez dans quelques minutes.")
    response.headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
    return response
