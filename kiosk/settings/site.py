"""Who and where the cabin is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["fr", "en"]


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cabin_id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="stable id, e.g. nangis-01"
    )
    name: str = Field(min_length=1, description="site name shown to patients")
    address: str = Field(min_length=1)
    operator: str = Field("", description="who runs the cabin (e.g. the Département)")
    booking_hint: str = Field("", description="how to book, shown on the welcome screen")
    walk_in: bool = Field(False, description="patients without an appointment may check in")
    default_language: Language = "fr"
    languages: list[Language] = Field(default_factory=lambda: list[Language](["fr", "en"]))
    min_age: int = Field(18, ge=0, description="adults from this age")
    minor_min_age: int = Field(
        15, ge=0, description="minors from this age (over 14) with a legal representative"
    )
    technician_pin_hash: str = Field(
        "", description="argon2 hash of the technician's touchscreen PIN; empty: no access"
    )
    ui_inactivity_s: int = Field(
        90, ge=5, le=3600, description="touchscreen: back to welcome after this long untouched"
    )
