"""Accounts: created, disabled and listed by an administrator (``kiosk hub doctors ...``,
``kiosk hub accounts ...``); read by the login and by every page that needs the sites a
person serves."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.roles import ALL_SITES, ROLES
from hub.shared.practitioner import check_address, check_email, check_rpps, normalise_phone
from hub.shared.wire import DoctorProfile
from hub.store.models import Account, AccountSite, RecoveryCode, Site, WebSession


class AccountError(ValueError):
    """A refused account change: the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    roles: list[str]
    password_hash: str
    sites: list[str]
    specialty: str | None = None
    rpps: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


def _checked(new: NewAccount) -> NewAccount:
    problems = []
    if not new.roles or any(r not in ROLES for r in new.roles):
        problems.append(f"roles must be among {', '.join(ROLES)}")
    if not new.username or not all(c.isalnum() or c in "._-" for c in new.username):
        problems.append("username: letters, digits, '.', '_' and '-' only")
    checked: dict[str, str | None] = {}
    for name, check, value in (
        ("rpps", check_rpps, new.rpps),
        ("address", check_address, new.address),
        ("phone", normalise_phone, new.phone),
        ("email", check_email, new.email),
    ):
        try:
            checked[name] = None if value is None else check(value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise AccountError("; ".join(problems))
    return dataclasses.replace(
        new,
        rpps=checked["rpps"],
        address=checked["address"],
        phone=checked["phone"],
        email=checked["email"],
    )


async def add_account(session: AsyncSession, new: NewAccount, now: datetime) -> Account:
    new = _checked(new)
    if await session.scalar(select(Account.id).where(Account.username == new.username)):
        raise AccountError(f"the account {new.username!r} already exists")
    known = set(await session.scalars(select(Site.code)))
    unknown = sorted(set(new.sites) - known - {ALL_SITES})
    if unknown:
        raise AccountError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(known)})")
    account = Account(
        id=uuid.uuid4().hex,
        username=new.username,
        display_name=new.display_name,
        roles=list(new.roles),
        password_hash=new.password_hash,
        specialty=new.specialty,
        rpps=new.rpps,
        address=new.address,
        phone=new.phone,
        email=new.email,
        created_at=now,
    )
    session.add(account)
    await session.flush()
    for code in dict.fromkeys(new.sites):
        session.add(AccountSite(account_id=account.id, site_code=code))
    return account


async def by_username(session: AsyncSession, username: str) -> Account | None:
    account: Account | None = await session.scalar(
        select(Account).where(Account.username == username)
    )
    return account


async def sites_of(session: AsyncSession, account_id: str) -> set[str]:
    rows = await session.scalars(
        select(AccountSite.site_code).where(AccountSite.account_id == account_id)
    )
    return set(rows)


async def disable(session: AsyncSession, username: str, now: datetime) -> Account:
    """Disabled at once: its sessions are deleted, so every open page is logged out."""
    account = await by_username(session, username)
    if account is None:
        raise AccountError(f"no account {username!r}")
    account.disabled_at = now
    await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    return account


async def reset_second_factor(session: AsyncSession, username: str) -> Account:
    """For a doctor who lost phone and recovery codes: enrols again at the next login."""
    account = await by_username(session, username)
    if account is None:
        raise AccountError(f"no account {username!r}")
    account.totp_secret = None
    account.totp_enrolled_at = None
    account.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    await session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    return account


async def listing(session: AsyncSession, role: str | None = None) -> Sequence[Account]:
    accounts = (await session.scalars(select(Account).order_by(Account.username))).all()
    return [a for a in accounts if role is None or role in a.roles]


def doctor_profile(account: Account) -> DoctorProfile:
    return DoctorProfile(
        id=account.id,
        display_name=account.display_name,
        specialty=account.specialty or "Médecine générale",
        rpps=account.rpps,
        address=account.address,
        phone=account.phone,
        email=account.email,
    )
