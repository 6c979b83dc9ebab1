"""USB serial relay boards (LCUS-1/2/4 and clones): 9600 8N1, 4-byte commands
A0 <channel> <state 01 on / 00 off> <checksum = (A0 + channel + state) & 0xFF>.
The boards send no reply. (pyserial's SerialException is an OSError.)"""

from __future__ import annotations

import asyncio
import contextlib

import serial_asyncio_fast

from hygiene.errors import LockError
from hygiene.lock.base import DoorLock, FailMode

HEADER = 0xA0
# The board answers nothing; a write that does not drain in this time means the USB
# serial adapter is gone.
WRITE_TIMEOUT_S = 2.0


def relay_command(channel: int, on: bool) -> bytes:
    if not 1 <= channel <= 255:
        raise ValueError(f"relay channel out of range: {channel}")
    state = 0x01 if on else 0x00
    return bytes([HEADER, channel, state, (HEADER + channel + state) & 0xFF])


class SerialRelayLock(DoorLock):
    driver = "serial_relay"

    def __init__(self, port: str, channel: int, fail_mode: FailMode, baudrate: int = 9600) -> None:
        super().__init__(fail_mode)
        self.port = port
        self.channel = channel
        self.baudrate = baudrate
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                _, self._writer = await serial_asyncio_fast.open_serial_connection(
                    url=self.port, baudrate=self.baudrate
                )
        except (OSError, TimeoutError) as exc:
            raise LockError(f"relay board on {self.port}: {exc}") from exc

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    await writer.wait_closed()

    async def _set_level(self, level: bool) -> None:
        if self._writer is None:
            await self.open()
        assert self._writer is not None
        try:
            self._writer.write(relay_command(self.channel, level))
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await self._writer.drain()
        except (OSError, TimeoutError) as exc:
            await self.close()  # reopen on the next command
            raise LockError(f"relay board on {self.port}: {exc}") from exc
