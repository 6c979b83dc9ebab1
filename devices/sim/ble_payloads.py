"""Characteristic values the simulated BLE peripheral sends, built byte by byte from the
Bluetooth SIG specifications (so the simulator does not depend on the decoders it tests).

Numbers use IEEE-11073 SFLOAT (16-bit: 4-bit exponent, 12-bit mantissa) and FLOAT
(32-bit: 8-bit exponent, 24-bit mantissa), little-endian."""

from __future__ import annotations

import struct
from datetime import datetime
from decimal import Decimal

SFLOAT_NAN = 0x07FF


def sfloat(value: Decimal | int | str) -> bytes:
    mantissa, exponent = _mantissa_exponent(Decimal(value), 12)
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0x0FFF))


def float32(value: Decimal | int | str) -> bytes:
    mantissa, exponent = _mantissa_exponent(Decimal(value), 24)
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def _mantissa_exponent(value: Decimal, bits: int) -> tuple[int, int]:
    limit = (1 << (bits - 1)) - 3  # the top values are reserved for NaN, NRes, ±INF
    for candidate in (value, value.normalize()):  # 120 stays 120 (not 12e1) if it fits
        sign, digits, exponent = candidate.as_tuple()
        assert isinstance(exponent, int)
        mantissa = int("".join(map(str, digits)) or "0")
        if mantissa <= limit:
            return (-mantissa if sign else mantissa), exponent
    raise ValueError(f"{value} does not fit a {bits}-bit mantissa")


def date_time(when: datetime) -> bytes:
    return struct.pack(
        "<HBBBBB", when.year, when.month, when.day, when.hour, when.minute, when.second
    )


def blood_pressure(
    systolic: int,
    diastolic: int,
    mean_arterial: int,
    pulse: int | None = None,
    when: datetime | None = None,
) -> bytes:
    """Blood Pressure Measurement (0x2A35) in mmHg."""
    flags = (0x02 if when else 0) | (0x04 if pulse is not None else 0)
    out = bytes((flags,)) + sfloat(systolic) + sfloat(diastolic) + sfloat(mean_arterial)
    if when:
        out += date_time(when)
    if pulse is not None:
        out += sfloat(pulse)
    return out


def cuff_pressure(pressure: int) -> bytes:
    """Intermediate Cuff Pressure (0x2A36): the cuff pressure in the systolic field."""
    nan = struct.pack("<H", SFLOAT_NAN)
    return bytes((0x00,)) + sfloat(pressure) + nan + nan


def temperature(celsius: Decimal | str, when: datetime | None = None) -> bytes:
    """Temperature Measurement (0x2A1C) in °C, type 'body (general)' (2)."""
    flags = (0x02 if when else 0) | 0x04
    out = bytes((flags,)) + float32(celsius)
    if when:
        out += date_time(when)
    return out + bytes((0x02,))


def plx_spot_check(spo2: int, pulse: int) -> bytes:
    """PLX Spot-Check Measurement (0x2A5E), no optional field."""
    return bytes((0x00,)) + sfloat(spo2) + sfloat(pulse)


def plx_continuous(spo2: int, pulse: int) -> bytes:
    """PLX Continuous Measurement (0x2A5F), normal values only."""
    return bytes((0x00,)) + sfloat(spo2) + sfloat(pulse)


def weight(kilograms: Decimal | str) -> bytes:
    """Weight Measurement (0x2A9D) in SI units (resolution 0.005 kg)."""
    raw = int(Decimal(kilograms) / Decimal("0.005"))
    return bytes((0x00,)) + struct.pack("<H", raw)


def body_composition(fat_percent: Decimal | str) -> bytes:
    """Body Composition Measurement (0x2A9C): body fat only (resolution 0.1 %)."""
    return struct.pack("<HH", 0x0000, int(Decimal(fat_percent) * 10))


def heart_rate(bpm: int) -> bytes:
    """Heart Rate Measurement (0x2A37), 8-bit value."""
    return bytes((0x00, bpm))


def glucose(sequence_number: int, mg_dl: int, when: datetime) -> bytes:
    """Glucose Measurement (0x2A18) in kg/L (mg/dL = 1e-5 kg/L), capillary whole blood
    from a finger."""
    concentration = sfloat(Decimal(mg_dl).scaleb(-5))
    type_location = bytes(((0x1 << 4) | 0x1,))  # location finger, type capillary blood
    return (
        bytes((0x02,))
        + struct.pack("<H", sequence_number)
        + date_time(when)
        + concentration
        + type_location
    )


def battery_level(percent: int) -> bytes:
    return bytes((percent,))
