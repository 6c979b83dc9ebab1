"""Weight Measurement 0x2A9D (Weight Scale service 0x181D).

Layout: flags u8 (0 imperial units, 1 time stamp, 2 user id, 3 BMI and height), weight u16
(SI 0.005 kg, imperial 0.01 lb; 0xFFFF "measurement unsuccessful"), [time stamp],
[user id u8], [BMI u16 0.1 kg/m2, height u16 (SI 0.001 m, imperial 0.1 in)].
Values are exact; imperial values keep their UCUM units ``[lb_av]`` / ``[in_i]``; SI
height is given in cm (the LOINC unit), 0.001 m = 0.1 cm exactly."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from devices import coding
from devices.gatt._codec import Reader, Writer, fixed_point, to_fixed_point
from devices.measurement import Measurement, Observation

_IMPERIAL, _TIMESTAMP, _USER, _BMI_HEIGHT = 0x01, 0x02, 0x04, 0x08
UNSUCCESSFUL = 0xFFFF
UNKNOWN_USER = 0xFF

KG_STEP = Decimal("0.005")
LB_STEP = Decimal("0.01")
BMI_STEP = Decimal("0.1")
M_STEP = Decimal("0.001")
IN_STEP = Decimal("0.1")
POUND_UNIT = "[lb_av]"
INCH_UNIT = "[in_i]"


def mass(raw: int, imperial: bool) -> Decimal | None:
    """A Weight Scale / Body Composition mass field (kg or lb), None if unsuccessful."""
    if raw == UNSUCCESSFUL:
        return None
    return fixed_point(raw, LB_STEP if imperial else KG_STEP)


def mass_raw(value: Decimal | None, imperial: bool) -> int:
    if value is None:
        return UNSUCCESSFUL
    step = LB_STEP if imperial else KG_STEP
    return to_fixed_point(value, step, 2, "mass", reserved_top=True)


def height(raw: int, imperial: bool) -> Decimal:
    """Height in metres (SI) or inches (imperial), exact."""
    return fixed_point(raw, IN_STEP if imperial else M_STEP)


def height_raw(value: Decimal, imperial: bool) -> int:
    return to_fixed_point(value, IN_STEP if imperial else M_STEP, 2, "height")


def height_observation(value: Decimal, imperial: bool) -> Observation:
    if imperial:
        return coding.obs(coding.BODY_HEIGHT, value, INCH_UNIT)
    return coding.obs(coding.BODY_HEIGHT, value * 100)  # m -> cm, exact


def weight_observation(value: Decimal | None, imperial: bool) -> Observation:
    return coding.obs(coding.BODY_WEIGHT, value, POUND_UNIT if imperial else None)


@dataclasses.dataclass(frozen=True)
class WeightFrame:
    weight: Decimal | None  # kg or lb; None: measurement unsuccessful
    imperial: bool = False
    timestamp: datetime | None = None
    user_id: int | None = None  # None: absent or unknown user (255)
    bmi: Decimal | None = None  # with height; both present or both None
    height: Decimal | None = None  # m or in

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> WeightFrame:
        r = Reader(data, "Weight Measurement")
        flags = r.u8("flags")
        imperial = bool(flags & _IMPERIAL)
        weight = mass(r.u16("weight"), imperial)
        timestamp = r.date_time("time stamp") if flags & _TIMESTAMP else None
        user_id = r.u8("user id") if flags & _USER else None
        bmi = tall = None
        if flags & _BMI_HEIGHT:
            bmi = fixed_point(r.u16("BMI"), BMI_STEP)
            tall = height(r.u16("height"), imperial)
        return cls(weight, imperial, timestamp, None if user_id == UNKNOWN_USER else user_id,
                   bmi, tall)  # fmt: skip

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        if (self.bmi is None) != (self.height is None):
            raise ValueError("Weight Measurement: BMI and height go together")
        w = Writer()
        flags = _IMPERIAL if self.imperial else 0
        flags |= _TIMESTAMP if self.timestamp is not None else 0
        flags |= _USER if self.user_id is not None else 0
        flags |= _BMI_HEIGHT if self.bmi is not None else 0
        w.u8(flags)
        w.u16(mass_raw(self.weight, self.imperial))
        if self.timestamp is not None:
            w.date_time(self.timestamp)
        if self.user_id is not None:
            w.u8(self.user_id)
        if self.bmi is not None and self.height is not None:
            w.u16(to_fixed_point(self.bmi, BMI_STEP, 2, "BMI"))
            w.u16(height_raw(self.height, self.imperial))
        return w.bytes()

    def to_measurement(self) -> Measurement:
        values = [weight_observation(self.weight, self.imperial)]
        if self.bmi is not None and self.height is not None:
            values.append(coding.obs(coding.BMI, self.bmi))
            values.append(height_observation(self.height, self.imperial))
        return Measurement(
            kind="weight",
            observations=tuple(values),
            timestamp=self.timestamp,
            status=("measurement_unsuccessful",) if self.weight is None else (),
        )
