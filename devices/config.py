"""Configuration of the cabin's instruments."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class InstrumentKind(StrEnum):
    BLOOD_PRESSURE = "blood_pressure"
    THERMOMETER = "thermometer"
    PULSE_OXIMETER = "pulse_oximeter"
    SCALE = "scale"
    BODY_COMPOSITION = "body_composition"
    GLUCOMETER = "glucometer"
    HEART_RATE = "heart_rate"
    OTOSCOPE = "otoscope"
    DERMATOSCOPE = "dermatoscope"
    STETHOSCOPE = "stethoscope"


class InstrumentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="e.g. tensiometre")
    kind: InstrumentKind
    transport: Literal["serial", "ble", "simulated", "usb_camera"]
    model: str = Field("", description="maker and model; selects per-model protocol quirks")
    protocol: str | None = Field(None, description="serial protocol, e.g. contec-v7, nonin-df8")
    port: str | None = Field(None, description="serial port, preferably /dev/serial/by-id/...")
    address: str | None = Field(None, description="BLE address AA:BB:CC:DD:EE:FF")
    adapter: str | None = Field(
        None,
        pattern=r"^hci[0-9]+$",
        description="BLE: the local Bluetooth adapter to use (e.g. hci0); default: BlueZ's first",
    )
    quirks: list[str] = Field(default_factory=list, description="per-model protocol overrides")

    @model_validator(mode="after")
    def _transport_fields(self) -> InstrumentSettings:
        if self.transport == "serial" and (self.port is None or self.protocol is None):
            raise ValueError("a serial instrument needs 'port' and 'protocol'")
        return self
