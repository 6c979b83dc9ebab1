"""Glucose Measurement Context 0x2A34 (Glucose service 0x1808).

Layout: flags u8, sequence number u16 (the Glucose Measurement it belongs to), then per
flag: [extended flags u8] (bit 7), [carbohydrate id u8 + carbohydrate SFLOAT kg] (0),
[meal u8] (1), [tester-health u8: tester low nibble, health high nibble] (2),
[exercise duration u16 s (65535 = overrun) + intensity u8 %] (3), [medication id u8 +
medication SFLOAT, kg or, with bit 5, litres] (4), [HbA1c SFLOAT %] (6).
Enumerated codes decode to snake_case names; reserved codes are a DecodeError."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from devices.gatt._codec import Reader, Writer, code_of, lookup
from devices.ieee11073 import EXACT, Numeric

_CARB, _MEAL, _TESTER, _EXERCISE, _MEDICATION, _LITRES, _HBA1C, _EXTENDED = (
    1 << bit for bit in range(8)
)

CARBOHYDRATES = {1: "breakfast", 2: "lunch", 3: "dinner", 4: "snack", 5: "drink",
                 6: "supper", 7: "brunch"}  # fmt: skip
MEALS = {1: "preprandial", 2: "postprandial", 3: "fasting", 4: "casual", 5: "bedtime"}
TESTERS = {1: "self", 2: "health_care_professional", 3: "lab_test", 15: "not_available"}
HEALTH = {1: "minor_health_issues", 2: "major_health_issues", 3: "during_menses",
          4: "under_stress", 5: "no_health_issues", 15: "not_available"}  # fmt: skip
MEDICATIONS = {1: "rapid_acting_insulin", 2: "short_acting_insulin",
               3: "intermediate_acting_insulin", 4: "long_acting_insulin",
               5: "premixed_insulin"}  # fmt: skip
EXERCISE_OVERRUN = 0xFFFF  # duration longer than 65534 s


@dataclasses.dataclass(frozen=True)
class Carbohydrate:
    meal: str  # a value of CARBOHYDRATES
    kilograms: Numeric

    @property
    def grams(self) -> Decimal | None:
        return self.kilograms.scaleb(3, EXACT) if isinstance(self.kilograms, Decimal) else None


@dataclasses.dataclass(frozen=True)
class Exercise:
    duration_s: int  # 65535: overrun
    intensity_percent: int


@dataclasses.dataclass(frozen=True)
class Medication:
    kind: str  # a value of MEDICATIONS
    amount: Numeric
    litres: bool = False  # units: False kg, True litres


@dataclasses.dataclass(frozen=True)
class GlucoseContext:
    sequence_number: int
    extended_flags: int | None = None  # reserved for future use; None: absent
    carbohydrate: Carbohydrate | None = None
    meal: str | None = None  # a value of MEALS
    tester: str | None = None  # TESTERS; tester and health travel together
    health: str | None = None  # HEALTH
    exercise: Exercise | None = None
    medication: Medication | None = None
    hba1c_percent: Numeric | None = None

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> GlucoseContext:
        r = Reader(data, "Glucose Measurement Context")
        flags = r.u8("flags")
        sequence = r.u16("sequence number")
        extended = r.u8("extended flags") if flags & _EXTENDED else None
        carbohydrate = meal = tester = health = exercise = medication = hba1c = None
        if flags & _CARB:
            kind = lookup(CARBOHYDRATES, r.u8("carbohydrate id"), f"{r.what}: carbohydrate id")
            carbohydrate = Carbohydrate(kind, r.sfloat("carbohydrate"))
        if flags & _MEAL:
            meal = lookup(MEALS, r.u8("meal"), f"{r.what}: meal")
        if flags & _TESTER:
            packed = r.u8("tester-health")
            tester = lookup(TESTERS, packed & 0x0F, f"{r.what}: tester")
            health = lookup(HEALTH, packed >> 4, f"{r.what}: health")
        if flags & _EXERCISE:
            exercise = Exercise(r.u16("exercise duration"), r.u8("exercise intensity"))
        if flags & _MEDICATION:
            kind = lookup(MEDICATIONS, r.u8("medication id"), f"{r.what}: medication id")
            medication = Medication(kind, r.sfloat("medication"), bool(flags & _LITRES))
        if flags & _HBA1C:
            hba1c = r.sfloat("HbA1c")
        return cls(sequence, extended, carbohydrate, meal, tester, health, exercise,
                   medication, hba1c)  # fmt: skip

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        if (self.tester is None) != (self.health is None):
            raise ValueError("Glucose Measurement Context: tester and health go together")
        flags = _EXTENDED if self.extended_flags is not None else 0
        w = Writer()
        if self.extended_flags is not None:
            w.u8(self.extended_flags)
        if self.carbohydrate is not None:
            flags |= _CARB
            w.u8(code_of(CARBOHYDRATES, self.carbohydrate.meal, "carbohydrate id"))
            w.sfloat(self.carbohydrate.kilograms)
        if self.meal is not None:
            flags |= _MEAL
            w.u8(code_of(MEALS, self.meal, "meal"))
        if self.tester is not None and self.health is not None:
            flags |= _TESTER
            tester = code_of(TESTERS, self.tester, "tester")
            w.u8(code_of(HEALTH, self.health, "health") << 4 | tester)
        if self.exercise is not None:
            flags |= _EXERCISE
            w.u16(self.exercise.duration_s)
            w.u8(self.exercise.intensity_percent)
        if self.medication is not None:
            flags |= _MEDICATION | (_LITRES if self.medication.litres else 0)
            w.u8(code_of(MEDICATIONS, self.medication.kind, "medication id"))
            w.sfloat(self.medication.amount)
        if self.hba1c_percent is not None:
            flags |= _HBA1C
            w.sfloat(self.hba1c_percent)
        head = Writer()
        head.u8(flags)
        head.u16(self.sequence_number)
        return head.bytes() + w.bytes()
