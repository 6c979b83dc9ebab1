"""An optional badge reader on a serial port that sends one UID per line (most USB RFID
readers in "serial" mode). Each valid UID is handed to a callback (the referent login)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable

import serial_asyncio_fast

log = logging.getLogger(__name__)

UID_PATTERN = re.compile(r"^[0-9A-Za-z:-]{4,32}$")
# A line longer than this is noise (wrong baud rate, another device): dropped.
MAX_LINE = 64
# Reopen a lost reader with a capped backoff (a USB reader unplugged and plugged back).
REOPEN_MIN_S = 1.0
REOPEN_MAX_S = 30.0

OnBadge = Callable[[str], Awaitable[None]]


def parse_uid(line: bytes) -> str | None:
    """The UID on a line, or None for garbage."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return text.upper() if UID_PATTERN.match(text) else None


async def read_badges(reader: asyncio.StreamReader, on_badge: OnBadge) -> None:
    """Until EOF: each line with a valid UID goes to ``on_badge``."""
    buffer = b""
    while True:
        chunk = await reader.read(256)
        if not chunk:
            return
        buffer += chunk
        *lines, buffer = re.split(rb"\r\n|\r|\n", buffer)
        if len(buffer) > MAX_LINE:
            buffer = b""
        for line in lines:
            uid = parse_uid(line)
            if uid is not None:
                await on_badge(uid)
            elif line.strip():
                log.warning("badge reader: unreadable line of %d bytes ignored", len(line))


async def run_badge_reader(port: str, baudrate: int, on_badge: OnBadge) -> None:
    """Keeps the reader open for the daemon's life."""
    delay = REOPEN_MIN_S
    while True:
        try:
            reader, writer = await serial_asyncio_fast.open_serial_connection(
                url=port, baudrate=baudrate
            )
        except OSError as exc:
            log.warning("badge reader %s: %s; retrying in %.0f s", port, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, REOPEN_MAX_S)
            continue
        delay = REOPEN_MIN_S
        try:
            await read_badges(reader, on_badge)
        except OSError as exc:
            log.warning("badge reader %s lost: %s", port, exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await asyncio.sleep(REOPEN_MIN_S)
