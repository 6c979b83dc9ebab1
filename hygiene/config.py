"""Configuration of the disinfection protocol, the referents and the door lock."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


class Technician(BaseModel):
    """May clear an out-of-service cabin (after an anomaly) with a personal PIN."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9._-]+$")
    name: str
    pin_hash: str = Field(description="argon2 hash of the PIN ('kiosk hygiene hash-pin')")


class LockSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: Literal["simulated", "serial_relay", "gpio"] = "simulated"
    port: str | None = Field(None, description="serial_relay: the relay board's serial port")
    baudrate: int = Field(9600, description="serial_relay: LCUS-type boards use 9600 8N1")
    channel: int = Field(1, ge=1, le=8, description="serial_relay: relay channel")
    gpio_chip: str = "/dev/gpiochip0"
    gpio_line: int | None = Field(None, ge=0, description="gpio: output line driving the lock")
    fail_mode: Literal["fail_secure", "fail_safe"] = Field(
        "fail_safe",
        description="fail_safe (magnetic lock): powered = locked, unlocks on power loss; "
        "fail_secure (strike): powered = released, stays locked on power loss",
    )
    door_sensor_line: int | None = Field(None, ge=0, description="gpio: door-closed input line")

    @model_validator(mode="after")
    def _driver_fields(self) -> LockSettings:
        if self.driver == "serial_relay" and self.port is None:
            raise ValueError("the serial_relay lock driver needs 'port'")
        if self.driver == "gpio" and self.gpio_line is None:
            raise ValueError("the gpio lock driver needs 'gpio_line'")
        return self


class EscalationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_minutes: int = Field(45, ge=1)
    webhook_url: str | None = Field(None, pattern=r"^https?://")
    webhook_timeout_s: float = Field(10.0, gt=0, le=120)
    webhook_attempts: int = Field(3, ge=1, le=10)


def _default_steps() -> list[ProtocolStep]:
    from hygiene.protocol import default_steps

    return default_steps()


class HygieneSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[ProtocolStep] = Field(
        default_factory=_default_steps,
        min_length=1,
        description="the protocol; when left out, the default one (hygiene/protocol.py)",
    )
    referents: list[Referent] = Field(default_factory=list)
    technicians: list[Technician] = Field(default_factory=list)
    lock: LockSettings = Field(default_factory=LockSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    badge_reader_port: str | None = None
    badge_reader_baudrate: int = 9600

    @model_validator(mode="after")
    def _unique_ids(self) -> HygieneSettings:
        for what, ids in (
            ("step", [s.id for s in self.steps]),
            ("referent", [r.id for r in self.referents]),
            ("technician", [t.id for t in self.technicians]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{what} ids must be unique: {', '.join(dupes)}")
        badges = [r.badge_uid for r in self.referents if r.badge_uid]
        if len(badges) != len(set(badges)):
            raise ValueError("two referents have the same badge_uid")
        return self
