"""Which GATT service and characteristics each kind of instrument uses (Bluetooth SIG
health profiles), and how one of its measurements starts."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from devices.config import InstrumentKind


def sig_uuid(short: int) -> str:
    """The full 128-bit form of a 16-bit Bluetooth SIG UUID, as bleak and BlueZ print it."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


BATTERY_SERVICE = sig_uuid(0x180F)
BATTERY_LEVEL = sig_uuid(0x2A19)

BLOOD_PRESSURE_MEASUREMENT = sig_uuid(0x2A35)
INTERMEDIATE_CUFF_PRESSURE = sig_uuid(0x2A36)
TEMPERATURE_MEASUREMENT = sig_uuid(0x2A1C)
INTERMEDIATE_TEMPERATURE = sig_uuid(0x2A1E)
PLX_SPOT_CHECK = sig_uuid(0x2A5E)
PLX_CONTINUOUS = sig_uuid(0x2A5F)
WEIGHT_MEASUREMENT = sig_uuid(0x2A9D)
BODY_COMPOSITION_MEASUREMENT = sig_uuid(0x2A9C)
GLUCOSE_MEASUREMENT = sig_uuid(0x2A18)
GLUCOSE_CONTEXT = sig_uuid(0x2A34)
RECORD_ACCESS_CONTROL_POINT = sig_uuid(0x2A52)
HEART_RATE_MEASUREMENT = sig_uuid(0x2A37)


class Trigger(StrEnum):
    """How a measurement starts."""

    PATIENT = "patient"  # the patient presses the instrument's button
    STORED_RECORDS = "stored_records"  # the cabin downloads new records (RACP)


@dataclasses.dataclass(frozen=True)
class Profile:
    service: str
    required: tuple[str, ...]  # characteristics the instrument must have
    optional: tuple[str, ...] = ()  # subscribed to when present
    trigger: Trigger = Trigger.PATIENT

    @property
    def subscribed(self) -> tuple[str, ...]:
        return self.required + self.optional


PROFILES: dict[InstrumentKind, Profile] = {
    InstrumentKind.BLOOD_PRESSURE: Profile(
        service=sig_uuid(0x1810),
        required=(BLOOD_PRESSURE_MEASUREMENT,),
        optional=(INTERMEDIATE_CUFF_PRESSURE,),
    ),
    InstrumentKind.THERMOMETER: Profile(
        service=sig_uuid(0x1809),
        required=(TEMPERATURE_MEASUREMENT,),
        optional=(INTERMEDIATE_TEMPERATURE,),
    ),
    InstrumentKind.PULSE_OXIMETER: Profile(
        service=sig_uuid(0x1822),
        required=(),
        # A PLX sensor has spot-check, continuous or both; the link needs one of them.
        optional=(PLX_SPOT_CHECK, PLX_CONTINUOUS),
    ),
    InstrumentKind.SCALE: Profile(service=sig_uuid(0x181D), required=(WEIGHT_MEASUREMENT,)),
    InstrumentKind.BODY_COMPOSITION: Profile(
        service=sig_uuid(0x181B), required=(BODY_COMPOSITION_MEASUREMENT,)
    ),
    InstrumentKind.GLUCOMETER: Profile(
        service=sig_uuid(0x1808),
        required=(GLUCOSE_MEASUREMENT, RECORD_ACCESS_CONTROL_POINT),
        optional=(GLUCOSE_CONTEXT,),
        trigger=Trigger.STORED_RECORDS,
    ),
    InstrumentKind.HEART_RATE: Profile(
        service=sig_uuid(0x180D), required=(HEART_RATE_MEASUREMENT,)
    ),
}


class UnsupportedInstrumentError(ValueError):
    """The configured kind has no Bluetooth LE health profile (e.g. an otoscope)."""


def profile_for(kind: InstrumentKind) -> Profile:
    try:
        return PROFILES[kind]
    except KeyError:
        raise UnsupportedInstrumentError(
            f"no Bluetooth LE health profile for instruments of kind {kind.value!r}"
        ) from None
