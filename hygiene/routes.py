"""HTTP API of the referent flow, for the cabin's own touchscreen (UI token required).

Errors are JSON {error, ...} with: 400 malformed request, 401 wrong PIN/badge
{attempts_left}, 404 unknown step, 409 not possible now {remaining_s | pending},
423 locked out {locked_until}, 503 the log could not be written (nothing changed)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hygiene.auth import PIN_PATTERN
from hygiene.errors import (
    AuthFailed,
    FlowError,
    HygieneError,
    LockedOut,
    StorageError,
    UnknownStep,
)
from kiosk import ui_auth
from kiosk.lifecycle import TransitionRefused

if TYPE_CHECKING:
    from hygiene.component import HygieneComponent

PIN_RE = re.compile(PIN_PATTERN)
MAX_BADGE_LEN = 64


class BadRequest(Exception):
    pass


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("le corps de la requête n'est pas du JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("un objet JSON est attendu")
    return body


def _error_response(exc: Exception) -> web.Response:
    if isinstance(exc, AuthFailed):
        return _error(401, str(exc), attempts_left=exc.attempts_left)
    if isinstance(exc, LockedOut):
        return _error(423, str(exc), locked_until=exc.until)
    if isinstance(exc, TransitionRefused):
        return _error(409, f"impossible maintenant : {exc.why}")
    extra = exc.extra if isinstance(exc, FlowError) else {}
    status = {BadRequest: 400, UnknownStep: 404, StorageError: 503}.get(type(exc), 409)
    return _error(status, str(exc), **extra)


def _pin(body: dict[str, Any]) -> str:
    pin = body.get("pin")
    if not isinstance(pin, str) or not PIN_RE.match(pin):
        raise BadRequest("le code doit comporter 4 à 8 chiffres")
    return pin


class HygieneApi:
    def __init__(self, component: HygieneComponent) -> None:
        self.component = component
        self.flow = component.flow

    def routes(self) -> list[web.AbstractRouteDef]:
        h = self._handle
        return [
            web.get("/api/hygiene/checklist", h(self.checklist)),
            web.post("/api/hygiene/login", h(self.login)),
            web.post("/api/hygiene/steps/{id}/start", h(self.start_step)),
            web.post("/api/hygiene/steps/{id}/confirm", h(self.confirm_step)),
            web.post("/api/hygiene/steps/{id}/anomaly", h(self.anomaly)),
            web.post("/api/hygiene/finish", h(self.finish)),
            web.post("/api/hygiene/cancel", h(self.cancel)),
            web.post("/api/hygiene/clear", h(self.clear)),
        ]

    def _handle(self, handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            denied = ui_auth.check(request, self.component.ctx.ui_token)
            if denied is not None:
                return denied
            try:
                result: web.StreamResponse = await handler(request)
            except (BadRequest, HygieneError, TransitionRefused) as exc:
                return _error_response(exc)
            return result

        return guarded

    async def checklist(self, request: web.Request) -> web.Response:
        return web.json_response(self.flow.checklist())

    async def login(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if ("pin" in body) == ("badge" in body):
            raise BadRequest("donnez soit 'pin', soit 'badge'")
        if "pin" in body:
            referent = await self.flow.login(pin=_pin(body))
        else:
            badge = body["badge"]
            if not isinstance(badge, str) or not 0 < len(badge) <= MAX_BADGE_LEN:
                raise BadRequest("badge illisible")
            referent = await self.flow.login(badge=badge)
        await self.component.apply_lock()
        return web.json_response({"referent": {"id": referent.id, "name": referent.name}})

    async def start_step(self, request: web.Request) -> web.Response:
        ready = await self.flow.start_step(request.match_info["id"])
        return web.json_response({"ready_at": ready.isoformat()})

    async def confirm_step(self, request: web.Request) -> web.Response:
        await self.flow.confirm_step(request.match_info["id"])
        return web.json_response({"status": "confirmed"})

    async def anomaly(self, request: web.Request) -> web.Response:
        body = await _body(request)
        reason = body.get("reason")
        if not isinstance(reason, str):
            raise BadRequest("'reason' (texte) est attendu")
        try:
            entry = await self.flow.anomaly(request.match_info["id"], reason)
        except ValueError as exc:
            raise BadRequest("la raison doit faire de 1 à 200 caractères") from exc
        await self.component.apply_lock()
        return web.json_response({"seq": entry.seq, "state": self._state()})

    async def finish(self, request: web.Request) -> web.Response:
        try:
            entry = await self.flow.finish()
        except LookupError as exc:
            raise FlowError(str(exc)) from exc
        await self.component.apply_lock()
        return web.json_response({"seq": entry.seq, "hash": entry.hash, "state": self._state()})

    async def cancel(self, request: web.Request) -> web.Response:
        await self.flow.cancel()
        return web.json_response({"state": self._state()})

    async def clear(self, request: web.Request) -> web.Response:
        body = await _body(request)
        state = await self.flow.clear(_pin(body))
        await self.component.apply_lock()
        return web.json_response({"state": state.value})

    def _state(self) -> str:
        return self.component.ctx.lifecycle.state.value
