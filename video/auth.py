"""Doctor accounts, login sessions and the login rate limit.

Accounts come from ``[call] doctors`` with argon2 password hashes. A login creates a
random session id kept in memory (a daemon restart logs doctors out) and sent as an
HttpOnly, SameSite=Strict cookie, Secure when the daemon serves TLS."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from video.config import DoctorAccount

COOKIE_NAME = "kiosk_doctor"
# A consultation day; the doctor logs in again the next day.
SESSION_LIFETIME_S = 12 * 3600
# Five wrong passwords per client address or account in five minutes, then wait.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_FAILURE_WINDOW_S = 300.0

_hasher = PasswordHasher()
# Verified when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not-a-doctor-password")


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    return _hasher.hash(password)


def _verify(account: DoctorAccount | None, password: str) -> bool:
    stored = account.password_hash if account is not None else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and account is not None


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins, retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class RateLimiter:
    """Sliding window of failures per key (client address, username)."""

    def __init__(
        self,
        allowed: int = LOGIN_FAILURES_ALLOWED,
        window_s: float = LOGIN_FAILURE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed = allowed
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def check(self, keys: Sequence[str]) -> None:
        now = self.clock()
        for key in keys:
            times = self._failures.get(key)
            if times is None:
                continue
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.allowed:
                raise TooManyAttempts(self.window_s - (now - times[0]))

    def failed(self, keys: Sequence[str]) -> None:
        now = self.clock()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)


@dataclasses.dataclass
class DoctorSession:
    session_id: str
    account: DoctorAccount
    expires: float


class DoctorAuth:
    def __init__(
        self, accounts: Sequence[DoctorAccount], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.accounts = {a.username: a for a in accounts}
        self.clock = clock
        self.limiter = RateLimiter(clock=clock)
        self._sessions: dict[str, DoctorSession] = {}

    async def login(self, username: str, password: str, client: str) -> DoctorSession | None:
        """A new session, or None for a wrong username/password. Raises TooManyAttempts."""
        keys = (f"addr:{client}", f"user:{username}")
        self.limiter.check(keys)
        account = self.accounts.get(username)
        # argon2 takes tens of milliseconds on purpose: keep it off the event loop.
        ok = await asyncio.to_thread(_verify, account, password)
        if not ok or account is None:
            self.limiter.failed(keys)
            return None
        self.limiter.succeeded(keys)
        return self.open_session(account)

    def demo_account(self) -> DoctorAccount | None:
        return self.accounts.get("demo") or next(iter(self.accounts.values()), None)

    def open_session(self, account: DoctorAccount) -> DoctorSession:
        self._expire()
        session = DoctorSession(
            secrets.token_urlsafe(32), account, self.clock() + SESSION_LIFETIME_S
        )
        self._sessions[session.session_id] = session
        return session

    def session(self, session_id: str | None) -> DoctorSession | None:
        if not session_id:
            return None
        self._expire()
        for known, session in self._sessions.items():
            if hmac.compare_digest(known, session_id):
                return session
        return None

    def logout(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def _expire(self) -> None:
        now = self.clock()
        for sid in [s for s, v in self._sessions.items() if v.expires <= now]:
            del self._sessions[sid]


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
