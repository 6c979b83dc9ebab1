"""The login, in two factors: a password, then a TOTP code (or a recovery code).

A first login enrols the second factor: the page shows a QR code of a new secret, the
person scans it and types the code it gives, then gets ten one-time recovery codes.
Every attempt, good or bad, is audited; failures count towards the rate limit."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.auth import ratelimit, recovery, totp
from hub.auth.accounts import by_username
from hub.auth.passwords import verify_password
from hub.auth.roles import home
from hub.auth.sessions import Principal, open_session, second_factor_given
from hub.context import HubContext
from hub.store.models import Account, RecoveryCode


class LoginRefused(Exception):
    """Wrong credentials (the message is shown as is, and says no more than needed)."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


WRONG_PASSWORD = "Identifiant ou mot de passe incorrect."  # noqa: S105 - a message
WRONG_CODE = "Code incorrect."
REPLAYED_CODE = "Ce code a déjà servi : attendez le suivant (30 secondes)."


@dataclasses.dataclass(frozen=True)
class PasswordOk:
    token: str
    enrolled: bool  # False: the second factor must be enrolled now


@dataclasses.dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


async def password_step(ctx: HubContext, username: str, password: str, client: str) -> PasswordOk:
    now = ctx.clock()
    keys = (f"addr:{client}", f"user:{username.lower()}")
    async with ctx.db.transaction() as s:
        await ratelimit.check(s, keys, now)
        account = await by_username(s, username)
    usable = account is not None and account.disabled_at is None
    ok = await verify_password(account.password_hash if usable and account else None, password)
    async with ctx.db.transaction() as s:
        if not ok or account is None:
            ratelimit.failed(s, keys, now)
            audit.record(
                s, at=now, actor=username[:64], role="?", action="login", outcome="refused",
                client=client, reason="password",
            )  # fmt: skip
    if not ok or account is None:  # raised outside: the failure and its audit are committed
        raise LoginRefused(WRONG_PASSWORD)
    async with ctx.db.transaction() as s:
        await ratelimit.succeeded(s, keys[1:])
        token = await open_session(s, account, now, timedelta(hours=ctx.settings.session_hours))
        audit.record(
            s, at=now, actor=account.username, role=account.roles[0], action="login",
            client=client, step="password",
        )  # fmt: skip
    return PasswordOk(token, account.totp_enrolled_at is not None)


async def start_enrolment(ctx: HubContext, who: Principal) -> Enrolment:
    """A new secret for an account that has none enrolled (a pending one is replaced)."""
    async with ctx.db.transaction() as s:
        account = await s.get(Account, who.account.id)
        if account is None or account.totp_enrolled_at is not None:
            raise LoginRefused("Le second facteur est déjà enrôlé.", status=409)
        account.totp_secret = totp.new_secret()
        secret = account.totp_secret
    uri = totp.provisioning_uri(secret, who.username)
    return Enrolment(secret, uri, totp.qr_svg(uri))


async def finish_enrolment(ctx: HubContext, who: Principal, code: str, client: str) -> list[str]:
    """Checks the first code; the recovery codes to show once."""
    now = ctx.clock()
    async with ctx.db.transaction() as s:
        account = await s.get(Account, who.account.id, with_for_update=True)
        if account is None or account.totp_secret is None or account.totp_enrolled_at:
            raise LoginRefused("Aucun enrôlement en cours.", status=409)
        result = totp.check_code(account.totp_secret, code, None, now)
        if not result.ok:
            ratelimit.failed(s, [f"totp:{account.username}"], now)
            audit.record(
                s, at=now, actor=account.username, role=who.role, action="totp_enrol",
                outcome="refused", client=client,
            )  # fmt: skip
    if not result.ok:
        raise LoginRefused(WRONG_CODE)
    async with ctx.db.transaction() as s:
        account = await s.get(Account, who.account.id, with_for_update=True)
        if account is None or account.totp_enrolled_at:
            raise LoginRefused("Aucun enrôlement en cours.", status=409)
        account.totp_enrolled_at = now
        account.totp_last_step = result.step
        codes = recovery.new_codes()
        for c in codes:
            s.add(RecoveryCode(account_id=account.id, code_hash=recovery.code_hash(c)))
        await second_factor_given(s, who.token_hash, now)
        audit.record(
            s, at=now, actor=account.username, role=who.role, action="totp_enrol", client=client
        )
    return codes


async def code_step(ctx: HubContext, who: Principal, code: str, client: str) -> str:
    """A TOTP or recovery code for a password-only session; the page to go to next."""
    now = ctx.clock()
    key = f"totp:{who.username}"
    async with ctx.db.transaction() as s:
        await ratelimit.check(s, [key], now)
        # Locked (PostgreSQL): two requests with the same code cannot both read the old step.
        account = await s.get(Account, who.account.id, with_for_update=True)
        if account is None or account.totp_secret is None or account.totp_enrolled_at is None:
            raise LoginRefused("Second facteur non enrôlé.", status=409)
        if recovery.looks_like_recovery_code(code):
            used = await _use_recovery_code(s, account.id, code, now)
            reason = "recovery code" if used else "unknown recovery code"
            ok, replayed = used, False
        else:
            result = totp.check_code(account.totp_secret, code, account.totp_last_step, now)
            ok, replayed = result.ok, result.replayed
            reason = "replayed" if replayed else "totp"
            if ok:
                account.totp_last_step = result.step
    async with ctx.db.transaction() as s:
        if not ok:
            ratelimit.failed(s, [key], now)
            audit.record(
                s, at=now, actor=who.username, role=who.role, action="login", outcome="refused",
                client=client, reason=reason, step="second_factor",
            )  # fmt: skip
    if not ok:
        raise LoginRefused(REPLAYED_CODE if replayed else WRONG_CODE)
    async with ctx.db.transaction() as s:
        await ratelimit.succeeded(s, [key])
        await second_factor_given(s, who.token_hash, now)
        audit.record(
            s, at=now, actor=who.username, role=who.role, action="login", client=client,
            step="second_factor", method=reason,
        )  # fmt: skip
    return home(who.roles)


async def _use_recovery_code(s: AsyncSession, account_id: str, code: str, now: datetime) -> bool:
    row = await s.scalar(
        select(RecoveryCode).where(
            RecoveryCode.account_id == account_id,
            RecoveryCode.code_hash == recovery.code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now
    return True
