"""A cabin's credential: a technician creates the cabin at the hub (``kiosk hub cabins add
NAME --site CODE``), which prints a one-time enrolment secret; the cabin trades it once
for its own credential (``kiosk enrol``), which it keeps and the hub keeps only as a hash.
Revoking the cabin deletes that hash: its socket is closed within a second and it cannot
connect again until it is enrolled anew."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Cabin, Site

_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class EnrolmentError(ValueError):
    """Refused: the message says why (unknown cabin, wrong or used secret, expired...)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


def _credential_digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def new_enrolment_secret() -> str:
    """Like 'K7QM-X3PF-9TZA-B4WD': typed by a technician, about 80 bits."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


async def add_cabin(
    session: AsyncSession, cabin_id: str, site_code: str, now: datetime, ttl: timedelta
) -> str:
    """Creates the cabin (or re-issues a secret for one never enrolled or revoked); the
    one-time secret to give the cabin."""
    if await session.get(Site, site_code) is None:
        raise EnrolmentError(f"unknown site {site_code!r}: add it to the hub's [[sites]]")
    cabin = await session.get(Cabin, cabin_id)
    if cabin is None:
        cabin = Cabin(id=cabin_id, site_code=site_code, created_at=now)
        session.add(cabin)
    elif cabin.credential_hash is not None:
        raise EnrolmentError(
            f"cabin {cabin_id} is enrolled: revoke it first ('kiosk hub cabins revoke')"
        )
    cabin.site_code = site_code
    secret = new_enrolment_secret()
    cabin.enrolment_hash = _digest(secret)
    cabin.enrolment_expires_at = now + ttl
    return secret


async def enrol(session: AsyncSession, cabin_id: str, secret: str, now: datetime) -> str:
    """Trades the one-time secret for the cabin's credential (returned once)."""
    cabin = await session.get(Cabin, cabin_id, with_for_update=True)
    if cabin is None or cabin.enrolment_hash is None:
        raise EnrolmentError("no enrolment is waiting for this cabin")
    if not hmac.compare_digest(cabin.enrolment_hash, _digest(secret)):
        raise EnrolmentError("wrong enrolment secret")
    if cabin.enrolment_expires_at is None or cabin.enrolment_expires_at <= now:
        raise EnrolmentError("the enrolment secret has expired: ask for a new one")
    credential = secrets.token_urlsafe(32)
    cabin.credential_hash = _credential_digest(credential)
    cabin.enrolment_hash = None
    cabin.enrolment_expires_at = None
    cabin.enrolled_at = now
    cabin.revoked_at = None
    # A new credential is a new cabin installation: its outbox starts again.
    cabin.outbox_epoch = None
    cabin.last_outbox_seq = 0
    cabin.appointments_cursor = 0
    return credential


async def authenticate(session: AsyncSession, cabin_id: str, credential: str) -> Cabin | None:
    cabin = await session.get(Cabin, cabin_id)
    if cabin is None or cabin.credential_hash is None or cabin.revoked_at is not None:
        return None
    if not hmac.compare_digest(cabin.credential_hash, _credential_digest(credential)):
        return None
    return cabin


async def revoke(session: AsyncSession, cabin_id: str, now: datetime) -> Cabin:
    cabin = await session.get(Cabin, cabin_id)
    if cabin is None:
        raise EnrolmentError(f"no cabin {cabin_id!r}")
    cabin.credential_hash = None
    cabin.enrolment_hash = None
    cabin.revoked_at = now
    return cabin


def parse_bearer(header: str) -> tuple[str, str] | None:
    """'Bearer <cabin id>:<credential>' → (cabin id, credential)."""
    if not header.startswith("Bearer "):
        return None
    cabin_id, sep, credential = header[7:].strip().partition(":")
    if not sep or not cabin_id or not credential or len(header) > 300:
        return None
    return cabin_id, credential
