"""IEEE 11073-20601 medical number formats used by the Bluetooth health profiles.

SFLOAT (16 bits): signed 4-bit exponent (high nibble), signed 12-bit mantissa.
FLOAT (32 bits): signed 8-bit exponent (high byte), signed 24-bit mantissa.
Value = mantissa * 10**exponent, decoded exactly as a ``Decimal``.

Special values are a small enum, ``Special``: NaN, NRes (not at this resolution), +INF and
-INF decode to it; the reserved code raises ``DecodeError``. The standard gives special
values exponent 0; like deployed decoders (and to never turn a special code into a bogus
number) we recognise them by their mantissa whatever the exponent.

Raw integers are little-endian on the wire (``*_from_bytes`` / ``*_to_bytes``)."""

from __future__ import annotations

import enum
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation

from devices.measurement import DecodeError


class Special(enum.Enum):
    NAN = "nan"  # not a number / not available
    NRES = "nres"  # not at this resolution
    POS_INF = "+inf"
    NEG_INF = "-inf"


Numeric = Decimal | Special

# Arithmetic that never rounds silently, whatever the thread's decimal context: 64 digits
# hold every value these formats carry, and anything inexact raises decimal.Inexact.
EXACT = Context(prec=64, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])

# Mantissa codes of the special values (two's complement of the mantissa width).
_SFLOAT_SPECIALS = {0x07FF: Special.NAN, 0x0800: Special.NRES, 0x07FE: Special.POS_INF,
                    0x0802: Special.NEG_INF}  # fmt: skip
_SFLOAT_RESERVED = 0x0801
_FLOAT_SPECIALS = {0x7FFFFF: Special.NAN, 0x800000: Special.NRES, 0x7FFFFE: Special.POS_INF,
                   0x800002: Special.NEG_INF}  # fmt: skip
_FLOAT_RESERVED = 0x800001


class _Format:
    """One of the two formats: field widths and ranges."""

    __slots__ = (
        "exp_bits",
        "exp_max",
        "exp_min",
        "man_bits",
        "man_max",
        "name",
        "reserved",
        "special_codes",
        "specials",
    )  # fmt: skip

    def __init__(self, name: str, man_bits: int, exp_bits: int, specials: dict[int, Special],
                 reserved: int) -> None:  # fmt: skip
        self.name = name
        self.man_bits = man_bits
        self.exp_bits = exp_bits
        # Normal mantissas stop 2 short of the limits: the ends hold the special codes.
        self.man_max = (1 << (man_bits - 1)) - 3
        self.exp_max = (1 << (exp_bits - 1)) - 1
        self.exp_min = -(1 << (exp_bits - 1))
        self.specials = specials
        self.special_codes = {v: k for k, v in specials.items()}
        self.reserved = reserved

    def decode(self, raw: int) -> Numeric:
        mantissa = raw & ((1 << self.man_bits) - 1)
        special = self.specials.get(mantissa)
        if special is not None:
            return special
        if mantissa == self.reserved:
            raise DecodeError(f"{self.name} 0x{raw:X} is a reserved value")
        if mantissa >= 1 << (self.man_bits - 1):
            mantissa -= 1 << self.man_bits
        exponent = raw >> self.man_bits
        if exponent >= 1 << (self.exp_bits - 1):
            exponent -= 1 << self.exp_bits
        return Decimal(mantissa).scaleb(exponent, EXACT)

    def encode(self, value: Numeric) -> int:
        if isinstance(value, Special):
            return self.special_codes[value]
        if value.is_nan():
            return self.special_codes[Special.NAN]
        if value.is_infinite():
            return self.special_codes[Special.NEG_INF if value < 0 else Special.POS_INF]
        smallest, largest = _smallest_mantissa(value)
        # Exponent 0 for whole numbers when it fits (what devices send: 120 not 12e1),
        # else the largest exponent, which gives the smallest mantissa.
        exponent = min(largest, 0)
        mantissa = smallest * int(10 ** (largest - exponent))
        if abs(mantissa) > self.man_max:
            exponent = min(largest, self.exp_max)
            mantissa = smallest * int(10 ** (largest - exponent))
        if exponent < self.exp_min or abs(mantissa) > self.man_max:
            raise ValueError(f"{value} cannot be represented exactly as an {self.name}")
        return ((exponent & ((1 << self.exp_bits) - 1)) << self.man_bits) | (
            mantissa & ((1 << self.man_bits) - 1)
        )


def _smallest_mantissa(value: Decimal) -> tuple[int, int]:
    """(mantissa, exponent) with no trailing zeros in the mantissa: the largest exponent.
    Works on the digits, so no context precision can round the value."""
    if value == 0:
        return 0, 0
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    mantissa = int("".join(map(str, digits)))
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    return (-mantissa if sign else mantissa), exponent


SFLOAT = _Format("SFLOAT", 12, 4, _SFLOAT_SPECIALS, _SFLOAT_RESERVED)
FLOAT = _Format("FLOAT", 24, 8, _FLOAT_SPECIALS, _FLOAT_RESERVED)


def decode_sfloat(raw: int) -> Numeric:
    """A 16-bit SFLOAT (as an unsigned integer) to a Decimal or a Special."""
    return SFLOAT.decode(raw)


def decode_float(raw: int) -> Numeric:
    """A 32-bit FLOAT (as an unsigned integer) to a Decimal or a Special."""
    return FLOAT.decode(raw)


def encode_sfloat(value: Numeric) -> int:
    """The SFLOAT of ``value``: exponent 0 for whole numbers that fit, else the largest
    exponent that keeps it exact.
    ValueError if no SFLOAT holds it exactly (too many digits, too large or too small)."""
    return SFLOAT.encode(value)


def encode_float(value: Numeric) -> int:
    """As ``encode_sfloat`` for the 32-bit FLOAT."""
    return FLOAT.encode(value)


def sfloat_from_bytes(data: bytes) -> Numeric:
    if len(data) != 2:
        raise DecodeError(f"an SFLOAT needs 2 bytes, got {len(data)}")
    return SFLOAT.decode(int.from_bytes(data, "little"))


def float_from_bytes(data: bytes) -> Numeric:
    if len(data) != 4:
        raise DecodeError(f"a FLOAT needs 4 bytes, got {len(data)}")
    return FLOAT.decode(int.from_bytes(data, "little"))


def sfloat_to_bytes(value: Numeric) -> bytes:
    return SFLOAT.encode(value).to_bytes(2, "little")


def float_to_bytes(value: Numeric) -> bytes:
    return FLOAT.encode(value).to_bytes(4, "little")


def observed(value: Numeric) -> Decimal | None:
    """The value an Observation carries: None for NaN/NRes, Decimal infinities for ±INF."""
    if isinstance(value, Decimal):
        return value
    if value is Special.POS_INF:
        return Decimal("Infinity")
    if value is Special.NEG_INF:
        return Decimal("-Infinity")
    return None
