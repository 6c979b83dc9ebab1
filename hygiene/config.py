"""Configuration of the disinfection protocol, the referents and the door lock."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProtocolStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label_fr: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    when_used: list[str] = Field(
        default_factory=list,
        description="instrument kinds that make this step apply; empty: always",
    )
    contact_time_s: int = Field(0, ge=0, description="disinfectant contact time before confirming")
    consumables: list[str] = Field(default_factory=list, description="consumables replaced")


class Referent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9._-]+$")
    name: str
    pin_hash: str = Field(description="argon2 hash of the PIN ('kiosk hygiene hash-pin')")
    badge_uid: str | None = None


class LockSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: Literal["simulated", "serial_relay", "gpio"] = "simulated"
    port: str | None = None
    channel: int = Field(1, ge=1, le=8)
    gpio_chip: str = "/dev/gpiochip0"
    gpio_line: int | None = None
    fail_mode: Literal["fail_secure", "fail_safe"] = "fail_safe"
    door_sensor_line: int | None = None


class EscalationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: int = Field(45, ge=1)
    webhook_url: str | None = None


class HygieneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[ProtocolStep] = Field(default_factory=list)
    referents: list[Referent] = Field(default_factory=list)
    lock: LockSettings = Field(default_factory=LockSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    badge_reader_port: str | None = None
