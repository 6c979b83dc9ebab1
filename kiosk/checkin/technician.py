"""The technician's PIN, checked by the daemon against an argon2 hash in the config,
with a lockout after repeated failures (in memory: a restart does not help much to an
attacker at a touchscreen, and the technician can always reach the host)."""

from __future__ import annotations

import time
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.checkin.lockout import RecentFailures

MAX_ATTEMPTS = 5
# Same window as the referents' lockout (issue 6): 5 wrong PINs in 15 minutes.
LOCKOUT_S = 15 * 60


class TechnicianGate:
    """Accepts any of the configured technician PINs (``site.technician_pin_hash`` and the
    ``[[hygiene.technicians]]``, the same people who clear an out-of-service cabin)."""

    def __init__(self, pin_hashes: list[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._hashes = [h for h in pin_hashes if h]
        self._failures = RecentFailures(MAX_ATTEMPTS, LOCKOUT_S, clock)
        self._hasher = PasswordHasher()

    @property
    def configured(self) -> bool:
        return bool(self._hashes)

    def locked_for(self) -> float:
        """Seconds until the next attempt is allowed (0 when allowed)."""
        return self._failures.locked_for()

    def attempt(self, pin: str) -> bool:
        if not self.configured or self.locked_for() > 0:
            return False
        for pin_hash in self._hashes:
            try:
                self._hasher.verify(pin_hash, pin)
            except (VerificationError, InvalidHashError):
                continue
            self._failures.clear()
            return True
        self._failures.failed()
        return False

    @property
    def attempts_left(self) -> int:
        return self._failures.attempts_left
