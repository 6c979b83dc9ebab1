"""Referent and technician authentication: argon2 PIN hashes, badges, persisted lockout.

The lockout is per cabin and per role (referent, technician): a PIN does not say whose it
is, so wrong attempts are counted at the cabin. After MAX_FAILURES wrong attempts within
WINDOW, every attempt is refused until the oldest of them leaves the window. Failures are
stored in the daemon's SQLite database, so a restart does not reset them.
"""

from __future__ import annotations

import asyncio
import hmac
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hygiene.errors import AuthFailed, LockedOut
from kiosk.db import Transaction

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
PIN_PATTERN = r"^[0-9]{4,8}$"

SCHEMA = """
CREATE TABLE IF NOT EXISTS hygiene_auth_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hygiene_auth_failures_scope ON hygiene_auth_failures (scope, at);
"""

Scope = Literal["referent", "technician"]
_hasher = PasswordHasher()


class Person(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def pin_hash(self) -> str: ...


P = TypeVar("P", bound=Person)


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def find_by_pin(people: Sequence[P], pin: str) -> P | None:
    """Tries every hash (argon2 is slow on purpose: call off the event loop)."""
    found = None
    for person in people:
        if pin_matches(person.pin_hash, pin) and found is None:
            found = person
    return found


def badge_matches(configured: str | None, given: str) -> bool:
    if not configured:
        return False
    return hmac.compare_digest(configured.strip().upper(), given.strip().upper())


class Lockout:
    """Counts wrong attempts in SQLite."""

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock
        conn.executescript(SCHEMA)

    def _recent(self, scope: Scope, now: datetime) -> list[datetime]:
        rows = self.conn.execute(
            "SELECT at FROM hygiene_auth_failures WHERE scope = ? AND at > ? ORDER BY at",
            (scope, (now - WINDOW).isoformat()),
        ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]

    def locked_until(self, scope: Scope) -> datetime | None:
        now = self.clock()
        recent = self._recent(scope, now)
        if len(recent) < MAX_FAILURES:
            return None
        return recent[-MAX_FAILURES] + WINDOW

    def check(self, scope: Scope) -> None:
        until = self.locked_until(scope)
        if until is not None:
            raise LockedOut(until.isoformat())

    def failed(self, scope: Scope) -> AuthFailed | LockedOut:
        """Records a wrong attempt; the error to raise (LockedOut if it was one too many)."""
        now = self.clock()
        with Transaction(self.conn) as c:
            c.execute(
                "INSERT INTO hygiene_auth_failures (scope, at) VALUES (?, ?)",
                (scope, now.isoformat()),
            )
            c.execute(
                "DELETE FROM hygiene_auth_failures WHERE at < ?",
                ((now - 2 * WINDOW).isoformat(),),
            )
        until = self.locked_until(scope)
        if until is not None:
            return LockedOut(until.isoformat())
        return AuthFailed(MAX_FAILURES - len(self._recent(scope, now)))

    def succeeded(self, scope: Scope) -> None:
        with Transaction(self.conn) as c:
            c.execute("DELETE FROM hygiene_auth_failures WHERE scope = ?", (scope,))


async def authenticate_pin(lockout: Lockout, scope: Scope, people: Sequence[P], pin: str) -> P:
    """The person whose PIN this is; AuthFailed / LockedOut otherwise. Nothing is verified
    while locked out."""
    lockout.check(scope)
    person = await asyncio.to_thread(find_by_pin, people, pin)
    if person is None:
        raise lockout.failed(scope)
    lockout.succeeded(scope)
    return person
