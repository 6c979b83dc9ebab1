"""Where the cabin keeps its state, and how long it keeps patient data."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: Path = Field(Path("/var/lib/kiosk"), description="SQLite database and spool")

    @property
    def database(self) -> Path:
        return self.state_dir / "cabin.sqlite3"


class RetentionSettings(BaseModel):
    """How long data is kept. Health data at rest is minimal (invariant 3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measurements_hours: int = Field(24, ge=1, description="measurements of a finished session")
    appointments_days: int = Field(2, ge=1, description="appointments after their slot")
    prescriptions_days: int = Field(7, ge=1, description="printed prescriptions (reprint window)")
    sessions_days: int = Field(30, ge=1, description="session records without patient identity")
    hygiene_log_years: int = Field(5, ge=1, description="the disinfection log, for inspections")
    purge_interval_minutes: int = Field(60, ge=1)
