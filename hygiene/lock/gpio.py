"""A lock driven by one GPIO output line through libgpiod v2 (python `gpiod`), with an
optional door-closed input line (active = closed). gpiod is imported here only."""

from __future__ import annotations

import asyncio
from typing import Any

from hygiene.errors import LockError
from hygiene.lock.base import DoorLock, FailMode, output_level


class GpioLock(DoorLock):
    driver = "gpio"

    def __init__(
        self, chip: str, line: int, fail_mode: FailMode, sensor_line: int | None = None
    ) -> None:
        super().__init__(fail_mode)
        self.chip = chip
        self.line = line
        self.sensor_line = sensor_line
        self._request: Any = None

    async def open(self) -> None:
        self._request = await asyncio.to_thread(self._request_lines)

    def _request_lines(self) -> Any:
        try:
            import gpiod
            from gpiod.line import Direction, Value

            # Until told otherwise the lock starts engaged: no moment of free entry.
            engaged = output_level(True, self.fail_mode)
            config: dict[Any, Any] = {
                self.line: gpiod.LineSettings(
                    direction=Direction.OUTPUT,
                    output_value=Value.ACTIVE if engaged else Value.INACTIVE,
                )
            }
            if self.sensor_line is not None:
                config[self.sensor_line] = gpiod.LineSettings(direction=Direction.INPUT)
            return gpiod.request_lines(self.chip, consumer="kiosk-door-lock", config=config)
        except (OSError, ImportError, ValueError) as exc:
            raise LockError(f"gpio {self.chip} line {self.line}: {exc}") from exc

    async def close(self) -> None:
        if self._request is not None:
            await asyncio.to_thread(self._request.release)
            self._request = None

    async def _set_level(self, level: bool) -> None:
        if self._request is None:
            await self.open()
        from gpiod.line import Value

        try:
            self._request.set_value(self.line, Value.ACTIVE if level else Value.INACTIVE)
        except OSError as exc:
            raise LockError(f"gpio {self.chip} line {self.line}: {exc}") from exc

    def door_closed(self) -> bool | None:
        if self.sensor_line is None or self._request is None:
            return None
        from gpiod.line import Value

        try:
            return bool(self._request.get_value(self.sensor_line) == Value.ACTIVE)
        except OSError:
            return None
