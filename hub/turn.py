"""Short-lived TURN credentials, coturn's shared-secret scheme ("TURN REST API",
draft-uberti-behave-turn-rest): username = "<expiry unix time>:<who>", password =
base64(HMAC-SHA1(static-auth-secret, username)). coturn (``use-auth-secret``) checks
them without knowing any user; a credential is useless after its expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from hub.settings import HubSettings
from hub.shared.wire import IceServer


def turn_credential(secret: str, who: str, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((time.time() if now is None else now) + ttl_s)
    username = f"{expiry}:{who}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(settings: HubSettings, who: str) -> list[IceServer]:
    """The STUN servers and a fresh TURN credential for ``who`` (a cabin or a doctor)."""
    servers = [IceServer(urls=list(s.urls)) for s in settings.stun]
    turn = settings.turn
    if turn is not None:
        username, password = turn_credential(turn.secret.get_secret_value(), who, turn.ttl_s)
        servers.append(IceServer(urls=list(turn.urls), username=username, credential=password))
    return servers
