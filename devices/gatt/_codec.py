"""Byte cursor and builder shared by the GATT characteristic codecs.

A ``Reader`` walks a characteristic value; every read names its field, so a flag that
announces a field the value does not carry fails with "<characteristic>: <field> needs N
bytes, M left". Bytes after the last field are ignored, as the Bluetooth core spec asks
of receivers (room for future fields): they never raise."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, Inexact

from devices.ieee11073 import EXACT, FLOAT, SFLOAT, Numeric
from devices.measurement import DecodeError

DATE_TIME_SIZE = 7
FIRST_VALID_YEAR = 1582  # Date Time: years 1582..9999, 0 = unknown


class Reader:
    __slots__ = ("_data", "_pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self.what = what

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int, field: str) -> bytes:
        start = self._pos
        end = start + size
        if end > len(self._data):
            raise DecodeError(
                f"{self.what}: {field} needs {size} bytes, {len(self._data) - start} left"
            )
        self._pos = end
        return self._data[start:end]

    def uint(self, size: int, field: str, big_endian: bool = False) -> int:
        return int.from_bytes(self.take(size, field), "big" if big_endian else "little")

    def u8(self, field: str) -> int:
        start = self._pos
        if start >= len(self._data):
            raise DecodeError(f"{self.what}: {field} needs 1 bytes, 0 left")
        self._pos = start + 1
        return self._data[start]

    def u16(self, field: str) -> int:
        return self.uint(2, field)

    def s16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little", signed=True)

    def sfloat(self, field: str, big_endian: bool = False) -> Numeric:
        return SFLOAT.decode(self.uint(2, field, big_endian))

    def float32(self, field: str) -> Numeric:
        return FLOAT.decode(self.uint(4, field))

    def date_time(self, field: str) -> datetime | None:
        return decode_date_time(self.take(DATE_TIME_SIZE, field), f"{self.what}: {field}")


class Writer:
    """Builds a value; an integer that does not fit its field raises ValueError."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def u8(self, value: int) -> None:
        self.uint(value, 1)

    def uint(self, value: int, size: int, big_endian: bool = False, signed: bool = False) -> None:
        try:
            self.buf += value.to_bytes(size, "big" if big_endian else "little", signed=signed)
        except OverflowError:
            raise ValueError(f"{value} does not fit in {size} byte(s)") from None

    def u16(self, value: int) -> None:
        self.uint(value, 2)

    def s16(self, value: int) -> None:
        self.uint(value, 2, signed=True)

    def sfloat(self, value: Numeric, big_endian: bool = False) -> None:
        self.uint(SFLOAT.encode(value), 2, big_endian)

    def float32(self, value: Numeric) -> None:
        self.uint(FLOAT.encode(value), 4)

    def date_time(self, value: datetime | None) -> None:
        self.buf += encode_date_time(value)

    def bytes(self) -> bytes:
        return bytes(self.buf)


def decode_date_time(raw: bytes, what: str = "Date Time") -> datetime | None:
    """The 7-byte Date Time: device wall-clock time, naive. A zero year, month or day
    means "unknown" (None); an hour, minute or second out of range is an error."""
    year = raw[0] | raw[1] << 8
    month, day, hour, minute, second = raw[2], raw[3], raw[4], raw[5], raw[6]
    if month > 12 or day > 31 or hour > 23 or minute > 59 or second > 59:
        raise DecodeError(f"{what}: {raw.hex()} is not a valid date and time")
    if year == 0 or month == 0 or day == 0:
        return None
    if year < FIRST_VALID_YEAR:
        raise DecodeError(f"{what}: year {year} is reserved")
    try:
        return datetime(year, month, day, hour, minute, second)  # the device clock: naive
    except ValueError as exc:
        raise DecodeError(f"{what}: {raw.hex()} is not a valid date ({exc})") from None


def encode_date_time(value: datetime | None) -> bytes:
    """None as "unknown" (all zero). Date Time has 1 s resolution and no time zone: the
    microseconds and any tzinfo are dropped (the wall-clock time is kept)."""
    if value is None:
        return bytes(DATE_TIME_SIZE)
    if value.year < FIRST_VALID_YEAR:
        raise ValueError(f"Date Time cannot hold year {value.year}")
    return value.year.to_bytes(2, "little") + bytes(
        (value.month, value.day, value.hour, value.minute, value.second)
    )


BitTable = tuple[tuple[int, str], ...]


def bit_names(value: int, table: BitTable) -> frozenset[str]:
    """Names of the set bits of ``value`` that ``table`` knows (reserved bits ignored)."""
    return frozenset(name for bit, name in table if value >> bit & 1)


def names_bits(names: Iterable[str], table: BitTable, what: str) -> int:
    """The inverse of ``bit_names``; ValueError on a name ``table`` does not have."""
    by_name = {name: bit for bit, name in table}
    value = 0
    for name in names:
        if name not in by_name:
            raise ValueError(f"{what}: unknown flag {name!r}")
        value |= 1 << by_name[name]
    return value


def ordered(names: frozenset[str], table: BitTable) -> tuple[str, ...]:
    """``names`` in bit order (stable output for Measurement.status)."""
    return tuple(name for _, name in table if name in names)


def lookup(table: dict[int, str], code: int, what: str) -> str:
    """Name of an enumerated code; DecodeError on a reserved one."""
    name = table.get(code)
    if name is None:
        raise DecodeError(f"{what}: value {code} is reserved")
    return name


def code_of(table: dict[int, str], name: str, what: str) -> int:
    for code, known in table.items():
        if known == name:
            return code
    raise ValueError(f"{what}: unknown value {name!r}")


def fixed_point(raw: int, resolution: Decimal) -> Decimal:
    """An unsigned fixed-point field (e.g. weight in 0.005 kg steps), exact."""
    return EXACT.multiply(raw, resolution)


def to_fixed_point(value: Decimal, resolution: Decimal, size: int, what: str,
                   reserved_top: bool = False) -> int:  # fmt: skip
    """The raw integer of ``value`` in ``resolution`` steps; ValueError if it is not a
    whole number of steps or does not fit (``reserved_top``: the all-ones code is taken)."""
    top = (1 << (8 * size)) - (2 if reserved_top else 1)
    if not value.is_finite():
        raise ValueError(f"{what}: {value} is not a number of {resolution} steps")
    try:
        steps = EXACT.divide(value, resolution)
    except Inexact:
        steps = Decimal("0.5")  # more digits than any field holds: not a whole step
    if steps != steps.to_integral_value() or not 0 <= steps <= top:
        raise ValueError(f"{what}: {value} is not a multiple of {resolution} in range")
    return int(steps)
