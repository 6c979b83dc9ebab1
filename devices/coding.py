"""LOINC codes and UCUM units of what the cabin measures (as the DMP and FHIR code them).

Decoders build observations with ``obs(CODE, value)`` so a code always travels with its
display name and unit."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from devices.measurement import Observation


@dataclasses.dataclass(frozen=True)
class Code:
    loinc: str
    display: str
    unit: str  # UCUM


SYSTOLIC = Code("8480-6", "Systolic blood pressure", "mm[Hg]")
DIASTOLIC = Code("8462-4", "Diastolic blood pressure", "mm[Hg]")
MEAN_ARTERIAL = Code("8478-0", "Mean blood pressure", "mm[Hg]")
CUFF_PRESSURE = Code("8480-6", "Cuff pressure (intermediate)", "mm[Hg]")
PULSE_RATE = Code("8867-4", "Heart rate", "/min")
BODY_TEMPERATURE = Code("8310-5", "Body temperature", "Cel")
SPO2 = Code("59408-5", "Oxygen saturation by pulse oximetry", "%")
PERFUSION_INDEX = Code("61006-3", "Perfusion index", "%")
BODY_WEIGHT = Code("29463-7", "Body weight", "kg")
BODY_HEIGHT = Code("8302-2", "Body height", "cm")
BMI = Code("39156-5", "Body mass index", "kg/m2")
BODY_FAT = Code("41982-0", "Body fat percentage", "%")
GLUCOSE_MASS = Code("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL")
GLUCOSE_MOLAR = Code("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L")
BATTERY_LEVEL = Code("battery", "Battery level", "%")  # device status, not clinical


def obs(code: Code, value: Decimal | None, unit: str | None = None) -> Observation:
    """An observation of ``code``; ``unit`` overrides the default UCUM unit (e.g. mmHg vs
    kPa, °C vs °F are converted by the decoder or kept with their own unit)."""
    return Observation(code.loinc, code.display, value, unit or code.unit)
