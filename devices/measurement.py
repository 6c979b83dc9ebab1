"""What every instrument decoder produces: observations coded in LOINC with UCUM units."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any


class DecodeError(ValueError):
    """Bytes that are not a valid frame/characteristic value. The only exception a
    decoder may raise on bad input."""


@dataclasses.dataclass(frozen=True)
class Observation:
    code: str  # LOINC, e.g. "8480-6"
    display: str  # e.g. "Systolic blood pressure"
    value: Decimal | None  # None for NaN / NRes / not available
    unit: str  # UCUM, e.g. "mm[Hg]"

    def to_json(self) -> dict[str, Any]:
        value: float | int | None = None
        if self.value is not None and self.value.is_finite():
            value = int(self.value) if self.value == self.value.to_integral() else float(self.value)
        return {"code": self.code, "display": self.display, "value": value, "unit": self.unit}


@dataclasses.dataclass(frozen=True)
class Measurement:
    kind: str  # e.g. "blood_pressure", "temperature", "spo2", "weight", "glucose"
    observations: tuple[Observation, ...]
    timestamp: datetime | None = None  # from the device; None if it sent none/unknown
    status: tuple[str, ...] = ()  # flag names, e.g. ("irregular_pulse", "cuff_loose")
    intermediate: bool = False  # a live value during a measurement (cuff pressure...)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "observations": [o.to_json() for o in self.observations],
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "status": list(self.status),
        }
