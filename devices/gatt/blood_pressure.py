"""Blood Pressure Measurement 0x2A35 and Intermediate Cuff Pressure 0x2A36 (service 0x1810).

Layout: flags u8, systolic, diastolic, mean arterial pressure (SFLOAT; for the intermediate
cuff pressure the cuff pressure is in the systolic slot, the others are NaN), [time stamp],
[pulse rate SFLOAT], [user id u8], [measurement status u16]. kPa values keep their unit
(exact; no lossy conversion to mm[Hg]).

Quirks (per model, from configuration):
- ``bp_pulse_big_endian``: the pulse rate SFLOAT is sent big-endian.
- ``bp_user_id_without_flag``: a user-id byte follows the pulse rate although the user-id
  flag is clear (the byte is then required)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from devices import coding
from devices.gatt._codec import BitTable, Reader, Writer, bit_names, names_bits, ordered
from devices.ieee11073 import Numeric, Special, observed
from devices.measurement import DecodeError, Measurement

QUIRK_PULSE_BIG_ENDIAN = "bp_pulse_big_endian"
QUIRK_USER_ID_WITHOUT_FLAG = "bp_user_id_without_flag"
QUIRKS = frozenset({QUIRK_PULSE_BIG_ENDIAN, QUIRK_USER_ID_WITHOUT_FLAG})

_KPA, _TIMESTAMP, _PULSE, _USER, _STATUS = 0x01, 0x02, 0x04, 0x08, 0x10
UNKNOWN_USER = 0xFF  # user id 255: "unknown user", decoded as None

BODY_MOVEMENT = "body_movement"
CUFF_LOOSE = "cuff_loose"
IRREGULAR_PULSE = "irregular_pulse"
PULSE_ABOVE_RANGE = "pulse_rate_above_range"
PULSE_BELOW_RANGE = "pulse_rate_below_range"
IMPROPER_POSITION = "improper_position"
_STATUS_BITS: BitTable = ((0, BODY_MOVEMENT), (1, CUFF_LOOSE), (2, IRREGULAR_PULSE),
                          (5, IMPROPER_POSITION))  # fmt: skip
_PULSE_RANGE_SHIFT = 3  # bits 3-4: 0 in range, 1 above, 2 below, 3 reserved
_STATUS_ORDER: BitTable = ((0, BODY_MOVEMENT), (1, CUFF_LOOSE), (2, IRREGULAR_PULSE),
                           (3, PULSE_ABOVE_RANGE), (4, PULSE_BELOW_RANGE),
                           (5, IMPROPER_POSITION))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class BloodPressureFrame:
    systolic: Numeric  # the cuff pressure when ``intermediate``
    diastolic: Numeric = Special.NAN
    mean_arterial: Numeric = Special.NAN
    kpa: bool = False  # units: False mmHg, True kPa
    timestamp: datetime | None = None
    pulse_rate: Numeric | None = None  # None: field absent
    user_id: int | None = None  # None: absent or unknown user (255)
    status: frozenset[str] | None = None  # None: field absent
    intermediate: bool = False  # 0x2A36 Intermediate Cuff Pressure

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset(),
                   intermediate: bool = False) -> BloodPressureFrame:  # fmt: skip
        r = Reader(data, "Intermediate Cuff Pressure" if intermediate else "Blood Pressure")
        flags = r.u8("flags")
        systolic = r.sfloat("systolic" if not intermediate else "cuff pressure")
        diastolic = r.sfloat("diastolic")
        mean_arterial = r.sfloat("mean arterial pressure")
        timestamp = r.date_time("time stamp") if flags & _TIMESTAMP else None
        pulse_rate = None
        if flags & _PULSE:
            pulse_rate = r.sfloat("pulse rate", QUIRK_PULSE_BIG_ENDIAN in quirks)
        user_id = None
        if flags & _USER or QUIRK_USER_ID_WITHOUT_FLAG in quirks:
            user_id = r.u8("user id")
            if user_id == UNKNOWN_USER:
                user_id = None
        status = None
        if flags & _STATUS:
            status = _decode_status(r.u16("measurement status"), r.what)
        return cls(systolic, diastolic, mean_arterial, bool(flags & _KPA), timestamp,
                   pulse_rate, user_id, status, intermediate)  # fmt: skip

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        """The characteristic value; with quirks, as a device with those quirks sends it."""
        w = Writer()
        user_without_flag = QUIRK_USER_ID_WITHOUT_FLAG in quirks
        flags = (_KPA if self.kpa else 0) | (_TIMESTAMP if self.timestamp is not None else 0)
        flags |= _PULSE if self.pulse_rate is not None else 0
        flags |= _USER if self.user_id is not None and not user_without_flag else 0
        flags |= _STATUS if self.status is not None else 0
        w.u8(flags)
        w.sfloat(self.systolic)
        w.sfloat(self.diastolic)
        w.sfloat(self.mean_arterial)
        if self.timestamp is not None:
            w.date_time(self.timestamp)
        if self.pulse_rate is not None:
            w.sfloat(self.pulse_rate, QUIRK_PULSE_BIG_ENDIAN in quirks)
        if self.user_id is not None or user_without_flag:
            w.u8(UNKNOWN_USER if self.user_id is None else self.user_id)
        if self.status is not None:
            w.u16(_encode_status(self.status))
        return w.bytes()

    def to_measurement(self) -> Measurement:
        unit = "kPa" if self.kpa else None
        if self.intermediate:
            values = [coding.obs(coding.CUFF_PRESSURE, observed(self.systolic), unit)]
        else:
            values = [
                coding.obs(coding.SYSTOLIC, observed(self.systolic), unit),
                coding.obs(coding.DIASTOLIC, observed(self.diastolic), unit),
                coding.obs(coding.MEAN_ARTERIAL, observed(self.mean_arterial), unit),
            ]
        if self.pulse_rate is not None:
            values.append(coding.obs(coding.PULSE_RATE, observed(self.pulse_rate)))
        return Measurement(
            kind="cuff_pressure" if self.intermediate else "blood_pressure",
            observations=tuple(values),
            timestamp=self.timestamp,
            status=ordered(self.status or frozenset(), _STATUS_ORDER),
            intermediate=self.intermediate,
        )


def _decode_status(raw: int, what: str) -> frozenset[str]:
    names = bit_names(raw, _STATUS_BITS)
    pulse_range = raw >> _PULSE_RANGE_SHIFT & 0b11
    if pulse_range == 0b11:
        raise DecodeError(f"{what}: pulse rate range value 3 is reserved")
    if pulse_range == 1:
        names |= {PULSE_ABOVE_RANGE}
    elif pulse_range == 2:
        names |= {PULSE_BELOW_RANGE}
    return names


def _encode_status(names: frozenset[str]) -> int:
    above, below = PULSE_ABOVE_RANGE in names, PULSE_BELOW_RANGE in names
    if above and below:
        raise ValueError("a pulse rate cannot be both above and below its range")
    rest = names - {PULSE_ABOVE_RANGE, PULSE_BELOW_RANGE}
    raw = names_bits(rest, _STATUS_BITS, "blood pressure status")
    return raw | (1 if above else 2 if below else 0) << _PULSE_RANGE_SHIFT
