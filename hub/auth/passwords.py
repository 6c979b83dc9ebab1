"""argon2id password hashes (argon2-cffi). Verifying takes tens of milliseconds on
purpose, so it runs in a thread, and an unknown user costs the same as a wrong password."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_CHARS = 12

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-anyone's-password")


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """``stored`` None (no such account) still spends the time of a check."""
    return await asyncio.to_thread(_verify, stored, password)
