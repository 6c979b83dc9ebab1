"""Exceptions of the printer package, by what the caller should do."""

from __future__ import annotations

from typing import TypedDict


class Problem(TypedDict):
    path: str  # dotted field path, e.g. "items.0.medication"
    message: str  # French, for the doctor


class PrinterError(Exception):
    """Root of every error raised by the printer package."""


class PrescriptionInvalid(PrinterError, ValueError):
    """The input is refused: fix it and send again. Nothing was stored or printed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        super().__init__(f"ordonnance refusée ({len(problems)} problème(s)) : {summary}")


class DocumentNotFound(PrinterError, KeyError):
    """No stored document has that id (or it was purged)."""


class CupsError(PrinterError):
    """CUPS refused or failed a request."""


class CupsUnreachable(CupsError):
    """The CUPS scheduler does not answer: retry later, keep the job."""


class QueueMissing(CupsError):
    """The configured queue does not exist on this CUPS server: a configuration problem."""


class JobTimeout(CupsError, TimeoutError):
    """A job did not complete in time."""
