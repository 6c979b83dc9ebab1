"""Exceptions of the printer package, by what the caller should do. The document's own
(a refused prescription, the root of them all) are in hub/shared/document_errors.py."""

from __future__ import annotations

from hub.shared.document_errors import PrescriptionInvalid, PrinterError, Problem

__all__ = [
    "CupsError", "CupsUnreachable", "DocumentNotFound", "JobTimeout", "PrescriptionInvalid",
    "PrinterError", "Problem", "QueueMissing",
]  # fmt: skip


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
