"""A lock with no hardware: records the levels it was told to drive (demo, tests)."""

from __future__ import annotations

from hygiene.lock.base import DoorLock, FailMode


class SimulatedLock(DoorLock):
    driver = "simulated"

    def __init__(self, fail_mode: FailMode) -> None:
        super().__init__(fail_mode)
        self.levels: list[bool] = []
        self.door_is_closed: bool | None = None  # a test may set it

    async def _set_level(self, level: bool) -> None:
        self.levels.append(level)

    def door_closed(self) -> bool | None:
        return self.door_is_closed
