"""Configuration of the cabin's printer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PrinterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field("PDF", description="CUPS queue name")
    cups_server: str | None = Field(None, description="CUPS server or socket; default: local")
    paper: Literal["A4", "A5"] = "A4"
    max_attempts: int = Field(5, ge=1)
    job_timeout_s: float = Field(120.0, gt=0)
