"""The secret shared by the daemon and the local touchscreen UI process.

The daemon writes a fresh random token to <state_dir>/ui-token (mode 0600) at start;
the UI reads it and sends it as the X-Kiosk-UI-Token header on /api/ui/* and
/api/hygiene/* requests. Nothing else on the network can drive the patient's screen."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web

from hub.shared.cabin_api import UI_TOKEN_FILE, UI_TOKEN_HEADER

HEADER = UI_TOKEN_HEADER
FILENAME = UI_TOKEN_FILE


def create_token(state_dir: Path) -> str:
    token = secrets.token_urlsafe(32)
    path = state_dir / FILENAME
    # Written whole then renamed: the UI, re-reading it after a daemon restart, never
    # reads a truncated token.
    partial = path.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    partial.replace(path)
    return token


def read_token(state_dir: Path) -> str:
    return (state_dir / FILENAME).read_text().strip()


def check(request: web.Request, token: str) -> web.Response | None:
    """None when the request carries the UI token, else a 401 response to return."""
    given = request.headers.get(HEADER, "")
    if given and hmac.compare_digest(given, token):
        return None
    return web.json_response({"error": "this API is for the cabin's own screen"}, status=401)
