"""A booking platform's bearer tokens (``kiosk hub tokens add|revoke|list``).

The token is shown once when it is made; the table keeps its SHA-256 only. A token acts
as a coordinator of every site, under its own name in the audit trail, until revoked."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.roles import ALL_SITES
from hub.store.models import ApiToken

PREFIX = "kbk_"  # recognisable in a leaked configuration file or log
TOKEN_ROLES = ["coordinator"]
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
MAX_TOKEN_CHARS = 100


class TokenError(ValueError):
    """A refused token change: the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class TokenCaller:
    """Who a valid token is."""

    name: str
    roles: list[str]
    sites: frozenset[str] = frozenset({ALL_SITES})


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_token(session: AsyncSession, name: str, now: datetime) -> str:
    """Creates the token ``name``; the token itself (shown once, never stored)."""
    if not name or len(name) > 100 or not set(name) <= NAME_CHARS:
        raise TokenError("name: letters, digits, '.', '_' and '-' only, 100 at most")
    if await session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise TokenError(
            f"a token named {name!r} already exists (even revoked): choose another name"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=uuid.uuid4().hex,
            name=name,
            token_hash=digest(token),
            roles=list(TOKEN_ROLES),
            created_at=now,
            revoked_at=None,
        )
    )
    return token


async def revoke(session: AsyncSession, name: str, now: datetime) -> ApiToken:
    row = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise TokenError(f"no token named {name!r}")
    if row.revoked_at is not None:
        raise TokenError(f"the token {name!r} was already revoked on {row.revoked_at:%Y-%m-%d}")
    row.revoked_at = now
    return row


async def listing(session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(ApiToken.name))).all())


def bearer_of(header: str) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return token


@dataclasses.dataclass(frozen=True)
class TokenCheck:
    caller: TokenCaller | None
    known_name: str | None = None  # a revoked token's name, for the audit


async def authenticate(session: AsyncSession, token: str) -> TokenCheck:
    wanted = digest(token)
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    # The lookup is by the digest; compare again in constant time for good measure.
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return TokenCheck(None)
    if row.revoked_at is not None:
        return TokenCheck(None, known_name=row.name)
    return TokenCheck(TokenCaller(row.name, list(row.roles)))
