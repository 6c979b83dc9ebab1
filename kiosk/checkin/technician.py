"""The technician's PIN, checked by the daemon against an argon2 hash in the config,
with a lockout after repeated failures (in memory: a restart does not help much to an
attacker at a touchscreen, and the technician can always reach the host)."""

from __future__ import annotations

import time
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MAX_ATTEMPTS = 5
# Same window as the referents' lockout (issue 6): 5 wrong PINs in 15 minutes.
LOCKOUT_S = 15 * 60


class TechnicianGate:
    """Accepts any of the configured technician PINs (``site.technician_pin_hash`` and the
    ``[[hygiene.technicians]]``, the same people who clear an out-of-service cabin)."""

    def __init__(self, pin_hashes: list[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._hashes = [h for h in pin_hashes if h]
        self._clock = clock
        self._failures: list[float] = []
        self._hasher = PasswordHasher()

    @property
    def configured(self) -> bool:
        return bool(self._hashes)

    def locked_for(self) -> float:
        """Seconds until the next attempt is allowed (0 when allowed)."""
        now = self._clock()
        self._failures = [t for t in self._failures if now - t < LOCKOUT_S]
        if len(self._failures) < MAX_ATTEMPTS:
            return 0.0
        return LOCKOUT_S - (now - self._failures[0])

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
        self._failures.append(self._clock())
        return False

    @property
    def attempts_left(self) -> int:
        self.locked_for()
        return max(0, MAX_ATTEMPTS - len(self._failures))
