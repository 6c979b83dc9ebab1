"""Body Composition Measurement 0x2A9C (Body Composition service 0x181B).

Layout: flags u16, body fat u16 (0.1 %; 0xFFFF "measurement unsuccessful"), then each
optional field in flag order: time stamp (bit 1), user id u8 (2), basal metabolism u16 kJ
(3), muscle percentage u16 0.1 % (4), muscle mass (5), fat free mass (6), soft lean mass
(7), body water mass (8) (masses: SI 0.005 kg, imperial 0.01 lb), impedance u16 0.1 ohm
(9), weight (10), height (11; 0.001 m / 0.1 in). Bit 0: imperial units; bit 12: the
measurement continues in another packet (status ``multiple_packet``).

The Measurement carries body fat, weight and height (the LOINC codes the cabin uses);
the other fields stay on the frame."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from devices import coding
from devices.gatt._codec import Reader, Writer, fixed_point, to_fixed_point
from devices.gatt.weight import (
    height,
    height_observation,
    height_raw,
    mass,
    mass_raw,
    weight_observation,
)
from devices.measurement import Measurement

_IMPERIAL, _TIMESTAMP, _USER, _MULTIPLE = 0x0001, 0x0002, 0x0004, 0x1000
UNSUCCESSFUL = 0xFFFF
UNKNOWN_USER = 0xFF
PERCENT_STEP = Decimal("0.1")
OHM_STEP = Decimal("0.1")
KJ_STEP = Decimal(1)
MULTIPLE_PACKET = "multiple_packet"

# Optional u16 fields after user id: (flag bit, frame attribute, kind)
_FIELDS = (
    (3, "basal_metabolism", "kJ"),
    (4, "muscle_percentage", "percent"),
    (5, "muscle_mass", "mass"),
    (6, "fat_free_mass", "mass"),
    (7, "soft_lean_mass", "mass"),
    (8, "body_water_mass", "mass"),
    (9, "impedance", "ohm"),
    (10, "weight", "mass"),
    (11, "height", "height"),
)
_STEPS = {"kJ": KJ_STEP, "percent": PERCENT_STEP, "ohm": OHM_STEP}


@dataclasses.dataclass(frozen=True)
class BodyCompositionFrame:
    body_fat: Decimal | None  # %; None: measurement unsuccessful
    imperial: bool = False
    timestamp: datetime | None = None
    user_id: int | None = None  # None: absent or unknown user (255)
    basal_metabolism: Decimal | None = None  # kJ
    muscle_percentage: Decimal | None = None  # %
    muscle_mass: Decimal | None = None  # kg or lb (each mass: None = absent)
    fat_free_mass: Decimal | None = None
    soft_lean_mass: Decimal | None = None
    body_water_mass: Decimal | None = None
    impedance: Decimal | None = None  # ohm
    weight: Decimal | None = None
    height: Decimal | None = None  # m or in
    multiple_packet: bool = False

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> BodyCompositionFrame:
        r = Reader(data, "Body Composition")
        flags = r.u16("flags")
        imperial = bool(flags & _IMPERIAL)
        fat_raw = r.u16("body fat percentage")
        body_fat = None if fat_raw == UNSUCCESSFUL else fixed_point(fat_raw, PERCENT_STEP)
        timestamp = r.date_time("time stamp") if flags & _TIMESTAMP else None
        user_id = r.u8("user id") if flags & _USER else None
        values: dict[str, Decimal | None] = {}
        for bit, name, kind in _FIELDS:
            if flags >> bit & 1:
                raw = r.u16(name.replace("_", " "))
                values[name] = _decode_field(raw, kind, imperial)
        return cls(
            body_fat,
            imperial,
            timestamp,
            None if user_id == UNKNOWN_USER else user_id,
            multiple_packet=bool(flags & _MULTIPLE),
            **values,
        )

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        flags = _IMPERIAL if self.imperial else 0
        flags |= _TIMESTAMP if self.timestamp is not None else 0
        flags |= _USER if self.user_id is not None else 0
        flags |= _MULTIPLE if self.multiple_packet else 0
        tail = Writer()
        for bit, name, kind in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                flags |= 1 << bit
                tail.u16(_encode_field(value, kind, self.imperial, name))
        w = Writer()
        w.u16(flags)
        if self.body_fat is None:
            w.u16(UNSUCCESSFUL)
        else:
            w.u16(to_fixed_point(self.body_fat, PERCENT_STEP, 2, "body fat", reserved_top=True))
        if self.timestamp is not None:
            w.date_time(self.timestamp)
        if self.user_id is not None:
            w.u8(self.user_id)
        return w.bytes() + tail.bytes()

    def to_measurement(self) -> Measurement:
        values = [coding.obs(coding.BODY_FAT, self.body_fat)]
        if self.weight is not None:
            values.append(weight_observation(self.weight, self.imperial))
        if self.height is not None:
            values.append(height_observation(self.height, self.imperial))
        status = ("measurement_unsuccessful",) if self.body_fat is None else ()
        return Measurement(
            kind="body_composition",
            observations=tuple(values),
            timestamp=self.timestamp,
            status=status + ((MULTIPLE_PACKET,) if self.multiple_packet else ()),
        )


def _decode_field(raw: int, kind: str, imperial: bool) -> Decimal | None:
    if kind == "mass":
        return mass(raw, imperial)
    if kind == "height":
        return height(raw, imperial)
    return fixed_point(raw, _STEPS[kind])


def _encode_field(value: Decimal, kind: str, imperial: bool, name: str) -> int:
    if kind == "mass":
        return mass_raw(value, imperial)
    if kind == "height":
        return height_raw(value, imperial)
    return to_fixed_point(value, _STEPS[kind], 2, name)
