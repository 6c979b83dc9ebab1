"""Errors of the documents the hub and the cabin both handle (the prescription and the
consultation summary, their layout): the printer package raises them, the hub's records
too. ``PrinterError`` is the root the printer's own errors (printer/errors.py) extend."""

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
