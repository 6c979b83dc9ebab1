"""CUPS through pycups, off the event loop.

pycups calls block and a Connection is not thread-safe: every call opens its own
connection inside a worker thread (asyncio.to_thread) and drops it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import cups

from printer.errors import CupsError, CupsUnreachable, QueueMissing
from printer.messages import blocking_reasons

# A local CUPS answers in milliseconds; a call this slow means the scheduler hangs.
CUPS_CALL_TIMEOUT_S = 20.0
# IPP job states (RFC 8011).
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED = 3, 4, 5, 6
JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 7, 8, 9
JOB_FINAL = (JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED)
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
IPP_NOT_FOUND = 0x0406
IPP_SERVER_ERRORS = 0x0500

PrinterState = Literal["idle", "printing", "stopped", "unreachable"]
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    reasons: tuple[str, ...] = ()
    message: str = ""  # printer-state-message from CUPS (no patient data)
    accepting: bool = True
    missing: bool = False  # the queue does not exist

    @property
    def ready(self) -> bool:
        """True when a job sent now should print (nothing blocks the queue)."""
        return (
            self.state in ("idle", "printing")
            and self.accepting
            and not self.missing
            and not blocking_reasons(self.reasons)
        )


@dataclasses.dataclass(frozen=True)
class JobInfo:
    job_id: int
    state: int
    reasons: tuple[str, ...]
    documents: int

    @property
    def final(self) -> bool:
        return self.state in JOB_FINAL


class CupsClient:
    def __init__(
        self, queue: str, server: str | None = None, job_options: Mapping[str, str] | None = None
    ) -> None:
        self.queue = queue
        self.server = server
        self.job_options = dict(job_options or {})

    def _connect(self) -> Any:
        try:
            if self.server:
                return cups.Connection(host=self.server)
            return cups.Connection()
        except RuntimeError as exc:
            raise CupsUnreachable(f"CUPS ({self.server or 'local'}) does not answer") from exc

    async def _run(self, what: str, fn: Callable[[Any], T]) -> T:
        def call() -> T:
            conn = self._connect()
            try:
                return fn(conn)
            except cups.IPPError as exc:
                status = exc.args[0] if exc.args else 0
                if isinstance(status, int) and status >= IPP_SERVER_ERRORS:
                    raise CupsUnreachable(f"{what}: CUPS error {exc.args}") from exc
                raise CupsError(f"{what}: {exc.args}") from exc
            except cups.HTTPError as exc:
                raise CupsUnreachable(f"{what}: HTTP error {exc.args}") from exc
            except RuntimeError as exc:
                raise CupsUnreachable(f"{what}: {exc}") from exc

        try:
            async with asyncio.timeout(CUPS_CALL_TIMEOUT_S):
                return await asyncio.to_thread(call)
        except TimeoutError:
            raise CupsUnreachable(f"{what}: CUPS did not answer in time") from None

    async def printer_status(self) -> PrinterStatus:
        """The queue's state; never raises for an unreachable server or a missing queue."""

        def get(conn: Any) -> dict[str, Any]:
            try:
                return dict(
                    conn.getPrinterAttributes(
                        self.queue,
                        requested_attributes=[
                            "printer-state",
                            "printer-state-reasons",
                            "printer-state-message",
                            "printer-is-accepting-jobs",
                        ],
                    )
                )
            except cups.IPPError as exc:
                if exc.args and exc.args[0] == IPP_NOT_FOUND:
                    return {"missing": True}
                raise

        try:
            attrs = await self._run("printer status", get)
        except CupsUnreachable:
            return PrinterStatus("unreachable")
        if attrs.get("missing"):
            return PrinterStatus("stopped", missing=True, accepting=False)
        raw = attrs.get("printer-state-reasons", [])
        reasons = tuple(r for r in ([raw] if isinstance(raw, str) else raw) if r != "none")
        code = attrs.get("printer-state", PRINTER_IDLE)
        state: PrinterState = {PRINTER_PROCESSING: "printing", PRINTER_STOPPED: "stopped"}.get(
            code, "idle"
        )  # type: ignore[assignment]
        return PrinterStatus(
            state=state,
            reasons=reasons,
            message=str(attrs.get("printer-state-message", "")),
            accepting=bool(attrs.get("printer-is-accepting-jobs", True)),
        )

    async def create_job(self, title: str) -> int:
        """A job with no document yet: it cannot print until send_document() completes, so
        its id can be recorded first (a crash in between never prints twice)."""

        def create(conn: Any) -> int:
            try:
                return int(conn.createJob(self.queue, title, self.job_options))
            except cups.IPPError as exc:
                if exc.args and exc.args[0] == IPP_NOT_FOUND:
                    raise QueueMissing(f"CUPS queue {self.queue!r} does not exist") from exc
                raise

        return await self._run("create job", create)

    async def send_document(self, job_id: int, pdf: bytes) -> None:
        def send(conn: Any) -> None:
            conn.startDocument(self.queue, job_id, "document.pdf", "application/pdf", 1)
            conn.writeRequestData(pdf, len(pdf))
            conn.finishDocument(self.queue)

        await self._run("send document", send)

    async def job(self, job_id: int) -> JobInfo | None:
        """The job's state, or None when CUPS does not know it (purged history)."""

        def get(conn: Any) -> dict[str, Any] | None:
            try:
                return dict(
                    conn.getJobAttributes(
                        job_id,
                        requested_attributes=[
                            "job-state",
                            "job-state-reasons",
                            "number-of-documents",
                        ],
                    )
                )
            except cups.IPPError as exc:
                if exc.args and exc.args[0] == IPP_NOT_FOUND:
                    return None
                raise

        attrs = await self._run("job state", get)
        if attrs is None:
            return None
        raw = attrs.get("job-state-reasons", [])
        return JobInfo(
            job_id=job_id,
            state=int(attrs.get("job-state", JOB_PENDING)),
            reasons=tuple([raw] if isinstance(raw, str) else raw),
            documents=int(attrs.get("number-of-documents", 0)),
        )

    async def cancel(self, job_id: int) -> None:
        def cancel(conn: Any) -> None:
            try:
                conn.cancelJob(job_id)
            except cups.IPPError as exc:
                # Already finished or gone: nothing left to cancel.
                if exc.args and exc.args[0] in (IPP_NOT_FOUND, 0x0407, 0x040C):
                    return
                raise

        await self._run("cancel job", cancel)
