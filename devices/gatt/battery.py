"""Battery Level 0x2A19 (Battery Service 0x180F): one byte, percent 0-100."""

from __future__ import annotations

from devices.gatt._codec import Reader
from devices.measurement import DecodeError

MAX_LEVEL = 100


def decode_battery_level(data: bytes) -> int:
    """The battery level in percent; DecodeError when empty or above 100 (reserved)."""
    level = Reader(data, "Battery Level").u8("level")
    if level > MAX_LEVEL:
        raise DecodeError(f"Battery Level: {level} % is above 100 (reserved)")
    return level


def encode_battery_level(level: int) -> bytes:
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"a battery level is 0-100 %, not {level}")
    return bytes((level,))
