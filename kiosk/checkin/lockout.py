"""Failures counted in a sliding window, for the touchscreen's guessable inputs (the
technician's PIN, the appointment code): past ``max_failures`` within ``window_s``, the
next attempt waits. In memory: a restart does not help much to someone at a touchscreen."""

from __future__ import annotations

import time
from collections.abc import Callable


class RecentFailures:
    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._clock = clock
        self._failures: list[float] = []

    def locked_for(self) -> float:
        """Seconds until the next attempt is allowed (0 when allowed)."""
        now = self._clock()
        self._failures = [t for t in self._failures if now - t < self.window_s]
        if len(self._failures) < self.max_failures:
            return 0.0
        return self.window_s - (now - self._failures[0])

    def failed(self) -> None:
        self._failures.append(self._clock())

    def clear(self) -> None:
        self._failures.clear()

    @property
    def attempts_left(self) -> int:
        self.locked_for()
        return max(0, self.max_failures - len(self._failures))
