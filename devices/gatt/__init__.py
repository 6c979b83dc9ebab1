"""Bluetooth GATT health profiles: pure decoders and encoders (bytes <-> frames).

Each characteristic has a frozen frame dataclass with ``from_bytes(data, quirks)``,
``to_bytes(quirks)`` (used by the simulators; with quirks it sends what a quirky device
sends) and ``to_measurement()``. ``decode(uuid, data, quirks)`` goes straight to what the
cabin uses: a Measurement, a GlucoseContext, a RACP response, or a battery level (int).

Bad bytes raise ``DecodeError`` and nothing else. Bytes after the last field are ignored
(the core spec asks receivers to, for future fields). Quirks are per-model overrides
chosen by configuration (``InstrumentSettings.quirks``), never guessed; ``KNOWN_QUIRKS``
lists them."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from devices import coding
from devices.gatt import blood_pressure
from devices.gatt.battery import decode_battery_level, encode_battery_level
from devices.gatt.blood_pressure import BloodPressureFrame
from devices.gatt.body_composition import BodyCompositionFrame
from devices.gatt.glucose import GlucoseFrame
from devices.gatt.glucose_context import GlucoseContext
from devices.gatt.heart_rate import HeartRateFrame
from devices.gatt.plx import PlxContinuousFrame, PlxSpotCheckFrame
from devices.gatt.racp import (
    NumberOfRecords,
    RacpRequest,
    RacpRequestError,
    RacpResponse,
    ResponseCode,
    ResponseValue,
    decode_racp_response,
)
from devices.gatt.temperature import TemperatureFrame
from devices.gatt.weight import WeightFrame
from devices.ieee11073 import Special
from devices.measurement import DecodeError, Measurement

__all__ = [
    "CHARACTERISTICS",
    "KNOWN_QUIRKS",
    "SERVICES",
    "SERVICE_CHARACTERISTICS",
    "BloodPressureFrame",
    "BodyCompositionFrame",
    "DecodeError",
    "Decoded",
    "Frame",
    "GlucoseContext",
    "GlucoseFrame",
    "HeartRateFrame",
    "NumberOfRecords",
    "PlxContinuousFrame",
    "PlxSpotCheckFrame",
    "RacpRequest",
    "RacpRequestError",
    "RacpResponse",
    "ResponseCode",
    "ResponseValue",
    "TemperatureFrame",
    "WeightFrame",
    "check_quirks",
    "decode",
    "decode_battery_level",
    "decode_frame",
    "decode_measurement",
    "decode_racp_response",
    "encode_battery_level",
    "parse_uuid",
    "supported",
    "to_json",
    "uuid128",
]

# Assigned numbers (Bluetooth SIG), uuid16 -> name.
BLOOD_PRESSURE_SERVICE = 0x1810
HEALTH_THERMOMETER_SERVICE = 0x1809
PULSE_OXIMETER_SERVICE = 0x1822
WEIGHT_SCALE_SERVICE = 0x181D
BODY_COMPOSITION_SERVICE = 0x181B
GLUCOSE_SERVICE = 0x1808
HEART_RATE_SERVICE = 0x180D
BATTERY_SERVICE = 0x180F

BLOOD_PRESSURE_MEASUREMENT = 0x2A35
INTERMEDIATE_CUFF_PRESSURE = 0x2A36
TEMPERATURE_MEASUREMENT = 0x2A1C
INTERMEDIATE_TEMPERATURE = 0x2A1E
PLX_SPOT_CHECK = 0x2A5E
PLX_CONTINUOUS = 0x2A5F
WEIGHT_MEASUREMENT = 0x2A9D
BODY_COMPOSITION_MEASUREMENT = 0x2A9C
GLUCOSE_MEASUREMENT = 0x2A18
GLUCOSE_MEASUREMENT_CONTEXT = 0x2A34
RECORD_ACCESS_CONTROL_POINT = 0x2A52
HEART_RATE_MEASUREMENT = 0x2A37
BATTERY_LEVEL = 0x2A19

SERVICES: dict[int, str] = {
    BLOOD_PRESSURE_SERVICE: "Blood Pressure",
    HEALTH_THERMOMETER_SERVICE: "Health Thermometer",
    PULSE_OXIMETER_SERVICE: "Pulse Oximeter",
    WEIGHT_SCALE_SERVICE: "Weight Scale",
    BODY_COMPOSITION_SERVICE: "Body Composition",
    GLUCOSE_SERVICE: "Glucose",
    HEART_RATE_SERVICE: "Heart Rate",
    BATTERY_SERVICE: "Battery Service",
}

CHARACTERISTICS: dict[int, str] = {
    BLOOD_PRESSURE_MEASUREMENT: "Blood Pressure Measurement",
    INTERMEDIATE_CUFF_PRESSURE: "Intermediate Cuff Pressure",
    TEMPERATURE_MEASUREMENT: "Temperature Measurement",
    INTERMEDIATE_TEMPERATURE: "Intermediate Temperature",
    PLX_SPOT_CHECK: "PLX Spot-check Measurement",
    PLX_CONTINUOUS: "PLX Continuous Measurement",
    WEIGHT_MEASUREMENT: "Weight Measurement",
    BODY_COMPOSITION_MEASUREMENT: "Body Composition Measurement",
    GLUCOSE_MEASUREMENT: "Glucose Measurement",
    GLUCOSE_MEASUREMENT_CONTEXT: "Glucose Measurement Context",
    RECORD_ACCESS_CONTROL_POINT: "Record Access Control Point",
    HEART_RATE_MEASUREMENT: "Heart Rate Measurement",
    BATTERY_LEVEL: "Battery Level",
}

# What the cabin subscribes to (notify/indicate) in each service; the RACP is written.
SERVICE_CHARACTERISTICS: dict[int, tuple[int, ...]] = {
    BLOOD_PRESSURE_SERVICE: (BLOOD_PRESSURE_MEASUREMENT, INTERMEDIATE_CUFF_PRESSURE),
    HEALTH_THERMOMETER_SERVICE: (TEMPERATURE_MEASUREMENT, INTERMEDIATE_TEMPERATURE),
    PULSE_OXIMETER_SERVICE: (PLX_SPOT_CHECK, PLX_CONTINUOUS),
    WEIGHT_SCALE_SERVICE: (WEIGHT_MEASUREMENT,),
    BODY_COMPOSITION_SERVICE: (BODY_COMPOSITION_MEASUREMENT,),
    GLUCOSE_SERVICE: (
        GLUCOSE_MEASUREMENT,
        GLUCOSE_MEASUREMENT_CONTEXT,
        RECORD_ACCESS_CONTROL_POINT,
    ),
    HEART_RATE_SERVICE: (HEART_RATE_MEASUREMENT,),
    BATTERY_SERVICE: (BATTERY_LEVEL,),
}

KNOWN_QUIRKS: frozenset[str] = blood_pressure.QUIRKS

Frame = (
    BloodPressureFrame
    | TemperatureFrame
    | PlxSpotCheckFrame
    | PlxContinuousFrame
    | WeightFrame
    | BodyCompositionFrame
    | GlucoseFrame
    | HeartRateFrame
)
Payload = bytes | bytearray | memoryview  # bleak hands over a bytearray
_FrameDecoder = Callable[[bytes, frozenset[str]], Frame]

_FRAME_DECODERS: dict[int, _FrameDecoder] = {
    BLOOD_PRESSURE_MEASUREMENT: BloodPressureFrame.from_bytes,
    INTERMEDIATE_CUFF_PRESSURE: lambda d, q: BloodPressureFrame.from_bytes(d, q, True),
    TEMPERATURE_MEASUREMENT: TemperatureFrame.from_bytes,
    INTERMEDIATE_TEMPERATURE: lambda d, q: TemperatureFrame.from_bytes(d, q, True),
    PLX_SPOT_CHECK: PlxSpotCheckFrame.from_bytes,
    PLX_CONTINUOUS: PlxContinuousFrame.from_bytes,
    WEIGHT_MEASUREMENT: WeightFrame.from_bytes,
    BODY_COMPOSITION_MEASUREMENT: BodyCompositionFrame.from_bytes,
    GLUCOSE_MEASUREMENT: GlucoseFrame.from_bytes,
    HEART_RATE_MEASUREMENT: HeartRateFrame.from_bytes,
}

_BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"
_UUID_FORMS = re.compile(
    r"(?:0x)?([0-9a-f]{4})|0000([0-9a-f]{4})" + re.escape(_BASE_UUID_SUFFIX), re.IGNORECASE
)


def parse_uuid(text: str) -> int:
    """A 16-bit UUID from "2a35", "0x2A35" or "00002a35-0000-1000-8000-00805f9b34fb".
    ValueError for anything else (other 128-bit UUIDs are not SIG-assigned 16-bit ones)."""
    match = _UUID_FORMS.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a Bluetooth 16-bit UUID (2A35, 0x2A35 or 00002a35{_BASE_UUID_SUFFIX})"
        )
    return int(match.group(1) or match.group(2), 16)


def uuid128(uuid16: int) -> str:
    """The full 128-bit form bleak uses, e.g. 0x2A35 -> "00002a35-0000-1000-8000-00805f9b34fb"."""
    if not 0 <= uuid16 <= 0xFFFF:
        raise ValueError(f"0x{uuid16:X} is not a 16-bit UUID")
    return f"0000{uuid16:04x}{_BASE_UUID_SUFFIX}"


def check_quirks(quirks: frozenset[str] | set[str] | list[str]) -> frozenset[str]:
    """The quirks as a frozenset; ValueError naming any this package does not know."""
    unknown = sorted(set(quirks) - KNOWN_QUIRKS)
    if unknown:
        raise ValueError(f"unknown quirks {unknown}; known: {sorted(KNOWN_QUIRKS)}")
    return frozenset(quirks)


def decode_frame(char_uuid: int, data: Payload, quirks: frozenset[str] = frozenset()) -> Frame:
    """The frame of a measurement characteristic. ValueError if ``char_uuid`` has no frame
    decoder (see ``decode`` for battery, glucose context and RACP); DecodeError on bad
    bytes."""
    decoder = _FRAME_DECODERS.get(char_uuid)
    if decoder is None:
        raise ValueError(f"no frame decoder for characteristic 0x{char_uuid:04X}")
    return decoder(bytes(data), quirks)


Decoded = Measurement | GlucoseContext | RacpResponse | int


def decode(char_uuid: int, data: Payload, quirks: frozenset[str] = frozenset()) -> Decoded:
    """What the cabin uses from a characteristic value: a Measurement for measurement
    characteristics, a GlucoseContext for 0x2A34, a RACP response (NumberOfRecords or
    ResponseCode) for 0x2A52, an int (percent) for Battery Level. ValueError for a
    characteristic this package does not decode; DecodeError on bad bytes."""
    if char_uuid == BATTERY_LEVEL:
        return decode_battery_level(bytes(data))
    if char_uuid == GLUCOSE_MEASUREMENT_CONTEXT:
        return GlucoseContext.from_bytes(bytes(data))
    if char_uuid == RECORD_ACCESS_CONTROL_POINT:
        return decode_racp_response(bytes(data))
    return decode_frame(char_uuid, data, quirks).to_measurement()


def decode_measurement(
    char_uuid: int, data: Payload, quirks: frozenset[str] = frozenset()
) -> Measurement:
    """``decode`` for a measurement characteristic (typed for callers that only want
    measurements). ValueError for the others (battery, glucose context, RACP)."""
    return decode_frame(char_uuid, bytes(data), quirks).to_measurement()


def to_json(decoded: Decoded) -> dict[str, Any]:
    """One JSON-ready object for any ``decode`` result (what the technician CLI prints).
    Measurements use Measurement.to_json; the battery level becomes a "battery"
    measurement; contexts and RACP responses list their fields (specials as null)."""
    if isinstance(decoded, Measurement):
        return decoded.to_json()
    if isinstance(decoded, int):
        level = coding.obs(coding.BATTERY_LEVEL, Decimal(decoded))
        return Measurement("battery", (level,)).to_json()
    kinds = {GlucoseContext: "glucose_context", NumberOfRecords: "racp_number_of_records",
             ResponseCode: "racp_response"}  # fmt: skip
    fields = {f.name: _plain(getattr(decoded, f.name)) for f in dataclasses.fields(decoded)}
    return {"kind": kinds[type(decoded)], **fields}


def _plain(value: object) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, enum.Enum):
        return None if isinstance(value, Special) else value.name.lower()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def supported() -> tuple[int, ...]:
    """Characteristics ``decode`` accepts."""
    return (*_FRAME_DECODERS, GLUCOSE_MEASUREMENT_CONTEXT, RECORD_ACCESS_CONTROL_POINT,
            BATTERY_LEVEL)  # fmt: skip
