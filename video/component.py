"""The "call" component: the doctor console's routes, its signaling WebSocket, and the
consultation behind them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from kiosk.component import Component, Context
from hub.shared import console_messages as m
from video import stack
from video.auth import COOKIE_NAME, SESSION_LIFETIME_S, DoctorAuth, TooManyAttempts, same_secret
from video.consultation import Consultation
from video.loopback import offer_loopback_candidates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The console loads only its own files; media may come from the peer connection.
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
MAX_LOGIN_BODY = 4096


class CallComponent(Component):
    name = "call"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.auth = DoctorAuth(ctx.settings.call.doctors)
        self.consultation = Consultation(ctx)
        self._secure_cookie = ctx.settings.network.tls is not None

    async def start(self) -> None:
        await stack.set_up(self.ctx.settings.call)
        if self.ctx.settings.network.ice_loopback:
            offer_loopback_candidates(True)
        self.ctx.tasks.spawn(self.consultation.bus_loop(), "call-bus")
        self.ctx.tasks.spawn(self.consultation.quality_loop(), "call-quality")

    async def stop(self) -> None:
        await self.consultation.close()
        stack.tear_down()
        if self.ctx.settings.network.ice_loopback:
            offer_loopback_candidates(False)

    def status(self) -> Any:
        c = self.consultation
        return {
            "call_state": c.call_state,
            "doctor_console": c.ws is not None,
            "connection": None if c.peer is None else c.peer.state,
            "restarts": c.restarts,
            # What the cabin receives from the doctor (an operator sees a one-way call).
            "received": None
            if c.peer is None
            else {
                "video_frames": c.peer.frames.video,
                "audio_frames": c.peer.frames.audio,
                "width": c.peer.frames.width,
                "height": c.peer.frames.height,
            },
        }

    async def close_long_requests(self) -> None:
        """Called by the HTTP server at shutdown: close the doctor's signaling socket,
        which the server would otherwise wait for until the daemon's shutdown timeout."""
        ws = self.consultation.ws
        if ws is not None:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"cabin daemon stopping")

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/doctor", self.console),
            web.post("/doctor/login", self.login),
            web.post("/doctor/logout", self.logout),
            web.get("/doctor/demo-login", self.demo_login),
            web.get("/doctor/ws", self.websocket),
            web.static("/doctor/static", STATIC_DIR),
        ]

    # -- pages and login -------------------------------------------------------------

    def _session(self, request: web.Request) -> Any:
        return self.auth.session(request.cookies.get(COOKIE_NAME))

    async def console(self, request: web.Request) -> web.StreamResponse:
        page = "console.html" if self._session(request) is not None else "login.html"
        response = web.FileResponse(STATIC_DIR / page)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def login(self, request: web.Request) -> web.Response:  # noqa: PLR0911
        if not self._origin_ok(request):
            return _error(403, "origine refusée")
        if request.content_length is not None and request.content_length > MAX_LOGIN_BODY:
            return _error(413, "requête trop grande")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "le corps n'est pas du JSON")
        username = body.get("username") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(username, str) or not isinstance(password, str):
            return _error(400, "nom d'utilisateur et mot de passe requis")
        try:
            session = await self.auth.login(username, password, request.remote or "?")
        except TooManyAttempts as exc:
            response = _error(429, "Trop d'essais. Réessayez plus tard.")
            response.headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
            return response
        if session is None:
            log.info("doctor login refused")
            return _error(401, "Identifiant ou mot de passe incorrect.")
        log.info("doctor %s logged in", username)
        response = web.json_response({"ok": True, "doctor": session.account.display_name})
        self._set_cookie(response, session.session_id)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        if not self._origin_ok(request):
            return _error(403, "origine refusée")
        self.auth.logout(request.cookies.get(COOKIE_NAME))
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE_NAME, path="/doctor")
        return response

    async def demo_login(self, request: web.Request) -> web.Response:
        expected = self.ctx.demo_login_token
        if expected is None:
            raise web.HTTPNotFound()
        if not same_secret(request.query.get("token", ""), expected):
            return _error(403, "lien de démonstration invalide")
        account = self.auth.demo_account()
        if account is None:
            return _error(503, "aucun compte médecin de démonstration configuré")
        session = self.auth.open_session(account)
        response = web.HTTPSeeOther("/doctor")
        self._set_cookie(response, session.session_id)
        raise response

    def _set_cookie(self, response: web.StreamResponse, session_id: str) -> None:
        response.set_cookie(
            COOKIE_NAME,
            session_id,
            path="/doctor",
            max_age=SESSION_LIFETIME_S,
            httponly=True,
            samesite="Strict",
            secure=self._secure_cookie,
        )

    def _origin_ok(self, request: web.Request) -> bool:
        """Browsers send Origin on WebSocket and POST requests: it must be this daemon."""
        origin = request.headers.get("Origin")
        if origin is None:
            return False
        allowed = {f"{request.scheme}://{request.host}"}
        public = self.ctx.settings.network.public_url
        if public:
            parts = urlsplit(public)
            allowed.add(f"{parts.scheme}://{parts.netloc}")
        return origin in allowed

    # -- signaling -------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if session is None:
            return _error(401, "connectez-vous d'abord")
        if not self._origin_ok(request):
            return _error(403, "origine refusée")
        ws = web.WebSocketResponse(max_msg_size=m.MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        consultation = self.consultation
        await consultation.attach(ws, session.account)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await consultation.handle_raw(msg.data, "ws")
        finally:
            await consultation.detach(ws)
        return ws


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def call_component(ctx: Context) -> Component:
    return CallComponent(ctx)
