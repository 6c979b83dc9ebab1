"""PLX Spot-check 0x2A5E and PLX Continuous 0x2A5F Measurements (Pulse Oximeter, 0x1822).

Spot-check: flags u8 (0 time stamp, 1 measurement status, 2 device and sensor status,
3 pulse amplitude index, 4 device clock not set), SpO2 SFLOAT, PR SFLOAT, [time stamp],
[measurement status u16], [device and sensor status u24], [pulse amplitude index SFLOAT].
Continuous: flags u8 (0 SpO2PR-Fast, 1 SpO2PR-Slow, 2 measurement status, 3 device and
sensor status, 4 pulse amplitude index), SpO2PR-Normal (2 SFLOAT), [Fast (2 SFLOAT)],
[Slow (2 SFLOAT)], [u16], [u24], [SFLOAT]. The Measurement carries the normal SpO2/PR and
the pulse amplitude index; the fast/slow averages stay on the frame. Reserved status
bits are ignored.

From the vendor's specification (the GATT Specification Supplement), not yet checked
against a device: no published capture or driver test vector of a PLX sensor is known
(tests/devices/gatt/test_cited_vectors.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Protocol

from devices import coding
from devices.gatt._codec import BitTable, Reader, Writer, bit_names, names_bits, ordered
from devices.ieee11073 import Numeric, observed
from devices.measurement import Measurement, Observation

MEASUREMENT_STATUS: BitTable = (
    (5, "measurement_ongoing"), (6, "early_estimated_data"), (7, "validated_data"),
    (8, "fully_qualified_data"), (9, "data_from_storage"), (10, "data_for_demonstration"),
    (11, "data_for_testing"), (12, "calibration_ongoing"), (13, "measurement_unavailable"),
    (14, "questionable_measurement"), (15, "invalid_measurement"),
)  # fmt: skip
DEVICE_STATUS: BitTable = (
    (0, "extended_display_update_ongoing"), (1, "equipment_malfunction"),
    (2, "signal_processing_irregularity"), (3, "inadequate_signal"), (4, "poor_signal"),
    (5, "low_perfusion"), (6, "erratic_signal"), (7, "nonpulsatile_signal"),
    (8, "questionable_pulse"), (9, "signal_analysis_ongoing"), (10, "sensor_interference"),
    (11, "sensor_unconnected_to_user"), (12, "unknown_sensor_connected"),
    (13, "sensor_displaced"), (14, "sensor_malfunctioning"), (15, "sensor_disconnected"),
)  # fmt: skip
CLOCK_NOT_SET = "device_clock_not_set"

# Spot-check flags
_S_TIMESTAMP, _S_MEAS, _S_DEVICE, _S_PAI, _S_CLOCK = 0x01, 0x02, 0x04, 0x08, 0x10
# Continuous flags
_C_FAST, _C_SLOW, _C_MEAS, _C_DEVICE, _C_PAI = 0x01, 0x02, 0x04, 0x08, 0x10

SpO2PR = tuple[Numeric, Numeric]  # (SpO2 %, pulse rate /min)


class _PlxTail(Protocol):
    """Fields both PLX characteristics end with (None: field absent)."""

    @property
    def measurement_status(self) -> frozenset[str] | None: ...
    @property
    def device_status(self) -> frozenset[str] | None: ...
    @property
    def pulse_amplitude_index(self) -> Numeric | None: ...


_Tail = tuple[frozenset[str] | None, frozenset[str] | None, Numeric | None]


def _read_tail(r: Reader, meas: int, device: int, pai: int) -> _Tail:
    ms = bit_names(r.u16("measurement status"), MEASUREMENT_STATUS) if meas else None
    ds = None
    if device:
        ds = bit_names(r.uint(3, "device and sensor status"), DEVICE_STATUS)
    index = r.sfloat("pulse amplitude index") if pai else None
    return ms, ds, index


def _write_tail(w: Writer, tail: _PlxTail) -> None:
    if tail.measurement_status is not None:
        w.u16(names_bits(tail.measurement_status, MEASUREMENT_STATUS, "PLX measurement"))
    if tail.device_status is not None:
        w.uint(names_bits(tail.device_status, DEVICE_STATUS, "PLX device status"), 3)
    if tail.pulse_amplitude_index is not None:
        w.sfloat(tail.pulse_amplitude_index)


def _tail_flags(tail: _PlxTail, meas: int, device: int, pai: int) -> int:
    flags = meas if tail.measurement_status is not None else 0
    flags |= device if tail.device_status is not None else 0
    return flags | (pai if tail.pulse_amplitude_index is not None else 0)


def _observations(spo2: Numeric, pulse: Numeric, tail: _PlxTail) -> tuple[Observation, ...]:
    values = [coding.obs(coding.SPO2, observed(spo2)),
              coding.obs(coding.PULSE_RATE, observed(pulse))]  # fmt: skip
    if tail.pulse_amplitude_index is not None:
        values.append(coding.obs(coding.PERFUSION_INDEX, observed(tail.pulse_amplitude_index)))
    return tuple(values)


def _status(tail: _PlxTail) -> tuple[str, ...]:
    return ordered(tail.measurement_status or frozenset(), MEASUREMENT_STATUS) + ordered(
        tail.device_status or frozenset(), DEVICE_STATUS
    )


@dataclasses.dataclass(frozen=True)
class PlxSpotCheckFrame:
    spo2: Numeric
    pulse_rate: Numeric
    timestamp: datetime | None = None
    clock_not_set: bool = False
    measurement_status: frozenset[str] | None = None
    device_status: frozenset[str] | None = None
    pulse_amplitude_index: Numeric | None = None

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> PlxSpotCheckFrame:
        r = Reader(data, "PLX Spot-check")
        flags = r.u8("flags")
        spo2 = r.sfloat("SpO2")
        pulse = r.sfloat("pulse rate")
        timestamp = r.date_time("time stamp") if flags & _S_TIMESTAMP else None
        tail = _read_tail(r, flags & _S_MEAS, flags & _S_DEVICE, flags & _S_PAI)
        return cls(spo2, pulse, timestamp, bool(flags & _S_CLOCK), *tail)

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        w = Writer()
        flags = _tail_flags(self, _S_MEAS, _S_DEVICE, _S_PAI)
        flags |= _S_TIMESTAMP if self.timestamp is not None else 0
        flags |= _S_CLOCK if self.clock_not_set else 0
        w.u8(flags)
        w.sfloat(self.spo2)
        w.sfloat(self.pulse_rate)
        if self.timestamp is not None:
            w.date_time(self.timestamp)
        _write_tail(w, self)
        return w.bytes()

    def to_measurement(self) -> Measurement:
        clock = (CLOCK_NOT_SET,) if self.clock_not_set else ()
        return Measurement(
            kind="spo2",
            observations=_observations(self.spo2, self.pulse_rate, self),
            timestamp=self.timestamp,
            status=_status(self) + clock,
        )


@dataclasses.dataclass(frozen=True)
class PlxContinuousFrame:
    spo2: Numeric
    pulse_rate: Numeric
    fast: SpO2PR | None = None  # None: field absent
    slow: SpO2PR | None = None
    measurement_status: frozenset[str] | None = None
    device_status: frozenset[str] | None = None
    pulse_amplitude_index: Numeric | None = None

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> PlxContinuousFrame:
        r = Reader(data, "PLX Continuous")
        flags = r.u8("flags")
        spo2 = r.sfloat("SpO2")
        pulse = r.sfloat("pulse rate")
        fast = (r.sfloat("SpO2 fast"), r.sfloat("pulse rate fast")) if flags & _C_FAST else None
        slow = (r.sfloat("SpO2 slow"), r.sfloat("pulse rate slow")) if flags & _C_SLOW else None
        tail = _read_tail(r, flags & _C_MEAS, flags & _C_DEVICE, flags & _C_PAI)
        return cls(spo2, pulse, fast, slow, *tail)

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        w = Writer()
        flags = _tail_flags(self, _C_MEAS, _C_DEVICE, _C_PAI)
        flags |= _C_FAST if self.fast is not None else 0
        flags |= _C_SLOW if self.slow is not None else 0
        w.u8(flags)
        w.sfloat(self.spo2)
        w.sfloat(self.pulse_rate)
        for pair in (self.fast, self.slow):
            if pair is not None:
                w.sfloat(pair[0])
                w.sfloat(pair[1])
        _write_tail(w, self)
        return w.bytes()

    def to_measurement(self) -> Measurement:
        return Measurement(
            kind="spo2",
            observations=_observations(self.spo2, self.pulse_rate, self),
            status=_status(self),
        )
