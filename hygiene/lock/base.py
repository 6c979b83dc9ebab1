"""The door-lock driver interface.

The lock only blocks ENTRY (invariant 4): egress is a mechanical handle or push bar that
no software state can block. Which electrical level means "locked" depends on the lock:

- fail_safe (magnetic lock, the default): powered = locked; a power cut releases it.
- fail_secure (electric strike / motor lock): powered = released; a power cut keeps it
  locked for entry (egress stays mechanical).
"""

from __future__ import annotations

import abc
from enum import StrEnum
from typing import Literal

FailMode = Literal["fail_secure", "fail_safe"]


class LockState(StrEnum):
    ENGAGED = "engaged"
    RELEASED = "released"
    UNKNOWN = "unknown"  # before the first command, or after a failed one


def output_level(engaged: bool, fail_mode: FailMode) -> bool:
    """The level (True = powered / relay on / line active) that puts the lock in the
    wanted position."""
    return engaged if fail_mode == "fail_safe" else not engaged


class DoorLock(abc.ABC):
    driver: str

    def __init__(self, fail_mode: FailMode) -> None:
        self.fail_mode: FailMode = fail_mode
        self.state = LockState.UNKNOWN

    async def engage(self) -> None:
        await self._set_level(output_level(True, self.fail_mode))
        self.state = LockState.ENGAGED

    async def release(self) -> None:
        await self._set_level(output_level(False, self.fail_mode))
        self.state = LockState.RELEASED

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Open the device (port, line)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device; the lock keeps its last electrical position."""

    def door_closed(self) -> bool | None:
        """The door-closed sensor, or None when there is none."""
        return None

    @abc.abstractmethod
    async def _set_level(self, level: bool) -> None:
        """Drive the output. Raises LockError when the hardware cannot be reached."""
