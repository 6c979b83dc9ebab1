"""Heart Rate Measurement 0x2A37 (Heart Rate service 0x180D).

Layout: flags u8 (bit 0 value format u16 (else u8), bits 1-2 sensor contact status,
bit 3 energy expended, bit 4 RR intervals), heart rate u8/u16 (/min), [energy expended
u16 kJ], [RR intervals: u16 each, 1/1024 s, until the end of the value]. Sensor contact:
bit 2 set = the feature is supported, then bit 1 = contact detected (status
``sensor_contact`` or ``no_sensor_contact``). RR intervals are exact Decimals in seconds."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from devices import coding
from devices.gatt._codec import Reader, Writer
from devices.ieee11073 import EXACT
from devices.measurement import DecodeError, Measurement

_U16, _CONTACT, _CONTACT_SUPPORTED, _ENERGY, _RR = 0x01, 0x02, 0x04, 0x08, 0x10
RR_STEPS_PER_SECOND = 1024
SENSOR_CONTACT = "sensor_contact"
NO_SENSOR_CONTACT = "no_sensor_contact"


@dataclasses.dataclass(frozen=True)
class HeartRateFrame:
    heart_rate: int  # beats per minute
    wide: bool = False  # sent as u16
    sensor_contact: bool | None = None  # None: the sensor does not report contact
    energy_expended_kj: int | None = None  # None: field absent
    rr_intervals: tuple[Decimal, ...] = ()  # seconds, multiples of 1/1024

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> HeartRateFrame:
        r = Reader(data, "Heart Rate Measurement")
        flags = r.u8("flags")
        wide = bool(flags & _U16)
        rate = r.u16("heart rate") if wide else r.u8("heart rate")
        contact = bool(flags & _CONTACT) if flags & _CONTACT_SUPPORTED else None
        energy = r.u16("energy expended") if flags & _ENERGY else None
        intervals: tuple[Decimal, ...] = ()
        if flags & _RR:
            if r.remaining() < 2 or r.remaining() % 2:
                raise DecodeError(f"{r.what}: RR intervals need 2 bytes each, "
                                  f"{r.remaining()} left")  # fmt: skip
            raw = r.take(r.remaining(), "RR intervals")
            intervals = tuple(
                EXACT.divide(int.from_bytes(raw[i : i + 2], "little"), RR_STEPS_PER_SECOND)
                for i in range(0, len(raw), 2)
            )
        return cls(rate, wide, contact, energy, intervals)

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        w = Writer()
        flags = _U16 if self.wide else 0
        if self.sensor_contact is not None:
            flags |= _CONTACT_SUPPORTED | (_CONTACT if self.sensor_contact else 0)
        flags |= _ENERGY if self.energy_expended_kj is not None else 0
        flags |= _RR if self.rr_intervals else 0
        w.u8(flags)
        w.uint(self.heart_rate, 2 if self.wide else 1)
        if self.energy_expended_kj is not None:
            w.u16(self.energy_expended_kj)
        for interval in self.rr_intervals:
            try:
                steps = EXACT.multiply(interval, RR_STEPS_PER_SECOND)
            except (ArithmeticError, ValueError):
                steps = Decimal("0.5")  # NaN, infinite or too many digits
            if not steps.is_finite() or steps != steps.to_integral_value():
                raise ValueError(f"RR interval {interval} s is not a multiple of 1/1024 s")
            w.u16(int(steps))
        return w.bytes()

    def to_measurement(self) -> Measurement:
        status: tuple[str, ...] = ()
        if self.sensor_contact is not None:
            status = (SENSOR_CONTACT if self.sensor_contact else NO_SENSOR_CONTACT,)
        return Measurement(
            kind="heart_rate",
            observations=(coding.obs(coding.PULSE_RATE, Decimal(self.heart_rate)),),
            status=status,
        )
