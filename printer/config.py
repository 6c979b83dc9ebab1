"""Configuration of the cabin's printer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _default_job_options() -> dict[str, str]:
    # PostScript queues (cups-pdf, PostScript printers) convert the PDF with pdftocairo,
    # which keeps accented text; other drivers ignore the option.
    return {"pdftops-renderer": "pdftocairo"}


class PrinterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field("PDF", description="CUPS queue name")
    cups_server: str | None = Field(None, description="CUPS server or socket; default: local")
    paper: Literal["A4", "A5"] = "A4"
    max_attempts: int = Field(5, ge=1, description="failed jobs before giving up (reprint)")
    job_timeout_s: float = Field(120.0, gt=0, description="a job that does not complete in time")
    retry_initial_s: float = Field(2.0, gt=0, description="first wait before retrying")
    retry_max_s: float = Field(60.0, gt=0, description="longest wait between retries")
    poll_interval_s: float = Field(0.5, gt=0, description="job state polling period")
    status_interval_s: float = Field(10.0, gt=0, description="printer state polling period")
    job_options: dict[str, str] = Field(
        default_factory=_default_job_options, description="CUPS job options"
    )
