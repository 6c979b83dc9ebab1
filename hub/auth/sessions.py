"""Browser sessions, kept in the database (a hub restart logs nobody out; several hub
instances share them). The cookie holds a random token; the table only its SHA-256."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.accounts import sites_of
from hub.store.models import Account, WebSession

COOKIE_NAME = "kiosk_hub"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is behind a request: the account, its roles and sites, and how far they logged in."""

    account: Account
    sites: frozenset[str]
    token_hash: str
    second_factor: bool

    @property
    def roles(self) -> list[str]:
        return list(self.account.roles)

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def role(self) -> str:
        """The role named in the audit trail."""
        return self.account.roles[0] if self.account.roles else "?"


async def open_session(
    session: AsyncSession, account: Account, now: datetime, lifetime: timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + lifetime,
            second_factor_at=None,
        )
    )
    return token


async def principal(session: AsyncSession, token: str | None, now: datetime) -> Principal | None:
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    row = (
        await session.execute(
            select(WebSession, Account)
            .join(Account, Account.id == WebSession.account_id)
            .where(WebSession.token_hash == digest)
        )
    ).first()
    if row is None:
        return None
    web, account = row
    if web.expires_at <= now or account.disabled_at is not None:
        return None
    sites = frozenset(await sites_of(session, account.id))
    return Principal(account, sites, digest, web.second_factor_at is not None)


async def second_factor_given(session: AsyncSession, digest: str, now: datetime) -> None:
    web = await session.get(WebSession, digest)
    if web is not None:
        web.second_factor_at = now


async def close_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
