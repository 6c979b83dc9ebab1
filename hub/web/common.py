"""Security headers, origins, errors and the session cookie, for every hub route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.auth.sessions import COOKIE_NAME
from hub.settings import HubSettings

# Pages load only the hub's own files; media may come from the peer connection.
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
MAX_JSON_BODY = 64 * 1024
STATIC = Path(__file__).resolve().parent / "static"
M = TypeVar("M", bound=BaseModel)


def page(path: Path) -> web.FileResponse:
    response = web.FileResponse(path)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def client_of(request: web.Request) -> str:
    return request.remote or "?"


def allowed_origins(request: web.Request, settings: HubSettings) -> set[str]:
    allowed = {f"{request.scheme}://{request.host}"}
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return allowed


def origin_ok(request: web.Request, settings: HubSettings) -> bool:
    """Browsers send Origin on POST and WebSocket requests: it must be the hub."""
    origin = request.headers.get("Origin")
    return origin is not None and origin in allowed_origins(request, settings)


def set_session_cookie(
    response: web.StreamResponse, token: str, settings: HubSettings, max_age_s: int
) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        path="/",
        max_age=max_age_s,
        httponly=True,
        samesite="Strict",
        secure=settings.tls is not None or (settings.public_url or "").startswith("https:"),
    )


class BodyInvalid(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__("invalid body")
        self.response = response


async def body_of(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``, or BodyInvalid with a 400/413/422 answer to return."""
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise BodyInvalid(json_error(413, "requête trop grande"))
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BodyInvalid(json_error(400, "le corps de la requête n'est pas du JSON")) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(corps)", "message": e["msg"]}
            for e in exc.errors()
        ]
        raise BodyInvalid(json_error(422, "requête invalide", problems=problems)) from None
