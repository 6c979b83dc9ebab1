"""The print worker: prints stored documents in order, exactly once, never giving up on
a printer that is away (disabled queue, CUPS down): those wait with capped backoff.

Exactly once: the CUPS job is created empty, its id committed, then the document sent.
After a crash, a recorded job is looked up before anything is sent again."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from hub.shared.prescription import Prescription
from hub.shared.record import ConsultationRecord
from hub.shared.report_pdf import render_report
from printer import messages
from printer.config import PrinterSettings
from printer.cups_client import (
    JOB_ABORTED,
    JOB_CANCELED,
    JOB_COMPLETED,
    CupsClient,
    PrinterStatus,
)
from printer.errors import CupsError, CupsUnreachable, QueueMissing
from printer.messages import DocumentKind, Messages
from printer.render import render_prescription
from printer.store import DocState, DocumentStore

log = logging.getLogger(__name__)

Outcome = Literal["completed", "blocked", "job_failed"]
Publish = Callable[[str, DocumentKind, DocState, Messages], None]
MayPrint = Callable[[dict[str, Any]], bool]


def render_document(kind: DocumentKind, payload: dict[str, Any], paper: Any) -> bytes:
    if kind == "prescription":
        return render_prescription(Prescription.model_validate(payload), paper)
    return render_report(ConsultationRecord.model_validate(payload), paper)


class PrintWorker:
    def __init__(
        self,
        settings: PrinterSettings,
        client: CupsClient,
        store: DocumentStore,
        publish: Publish,
        may_print: MayPrint = lambda _doc: True,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.publish = publish
        # False while another patient is in the booth: their document is not theirs to take.
        self.may_print = may_print
        self.held = False
        self.wake = asyncio.Event()  # new or requeued document
        self.kick = asyncio.Event()  # the printer may be back: retry now
        self.printer = PrinterStatus("idle")
        self.current: str | None = None
        self.blocked_messages: Messages | None = None

    async def run(self) -> None:
        while True:
            self.wake.clear()
            docs = await asyncio.to_thread(self.store.pending)
            if not docs:
                await self.wake.wait()
                continue
            for doc in docs:
                try:
                    await self._print_until_done(doc)
                except Exception:
                    # A bug or a broken database must not stop printing for good: the
                    # document stays stored and is tried again after a pause.
                    log.exception("document %s: unexpected error while printing", doc["id"])
                    await self._sleep(self.settings.retry_max_s)
                    break

    async def _sleep(self, seconds: float) -> None:
        """Wait for the backoff, or less when the monitor sees the printer come back."""
        self.kick.clear()
        try:
            async with asyncio.timeout(seconds):
                await self.kick.wait()
        except TimeoutError:
            pass

    async def _print_until_done(self, doc: dict[str, Any]) -> None:
        doc_id, kind = doc["id"], doc["kind"]
        self.current = doc_id
        backoff = self.settings.retry_initial_s
        try:
            while True:
                try:
                    outcome = await self._attempt(doc)
                except CupsUnreachable:
                    self.printer = PrinterStatus("unreachable")
                    await self._retrying(doc, messages.unreachable(self.client.server, kind))
                    outcome = "blocked"
                except QueueMissing:
                    self.printer = PrinterStatus("stopped", missing=True, accepting=False)
                    await self._retrying(doc, messages.queue_missing(self.client.queue, kind))
                    outcome = "blocked"
                except CupsError as exc:
                    log.warning("document %s: CUPS error %s", doc_id, exc)
                    outcome = "job_failed"
                if outcome == "completed":
                    self.blocked_messages = None
                    return
                if outcome == "job_failed":
                    doc = await asyncio.to_thread(self.store.get, doc_id)
                    if doc["attempts"] >= self.settings.max_attempts:
                        self.blocked_messages = None
                        await self._set(doc_id, "failed", error="too many failed jobs")
                        self.publish(
                            doc_id, kind, "failed", messages.gave_up(kind, doc["attempts"])
                        )
                        log.error("document %s: gave up after %d jobs", doc_id, doc["attempts"])
                        return
                    await self._retrying(doc, messages.job_failed_retrying(kind, "échec"))
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.settings.retry_max_s)
                doc = await asyncio.to_thread(self.store.get, doc_id)
        finally:
            self.current = None

    async def _set(self, doc_id: str, state: DocState, **kw: Any) -> None:
        await asyncio.to_thread(self.store.set_state, doc_id, state, **kw)

    async def _retrying(self, doc: dict[str, Any], msgs: Messages) -> None:
        changed = msgs != self.blocked_messages
        self.blocked_messages = msgs
        if doc["state"] != "retrying" or changed:
            await self._set(doc["id"], "retrying", error=msgs.technician)
            doc["state"] = "retrying"
            self.publish(doc["id"], doc["kind"], "retrying", msgs)
            log.warning("document %s waits: %s", doc["id"], msgs.technician)

    async def _hold(self, doc: dict[str, Any]) -> None:
        """Keep a previous consultation's document until the booth is free. Not announced:
        the patient in the booth must not see another patient's printing."""
        msgs = messages.held_for_next_free_booth(doc["kind"])
        if not self.held or doc["state"] != "retrying":
            await self._set(doc["id"], "retrying", error=msgs.technician)
            doc["state"] = "retrying"
            log.info("document %s waits for the booth to be free", doc["id"])
        self.held = True
        self.blocked_messages = msgs

    async def _attempt(self, doc: dict[str, Any]) -> Outcome:
        if doc["cups_job_id"] is not None:
            resumed = await self._resume_recorded_job(doc, int(doc["cups_job_id"]))
            if resumed is not None:
                return resumed
        if not self.may_print(doc):
            await self._hold(doc)
            return "blocked"
        self.held = False
        if not await self._printer_ready(doc):
            return "blocked"
        return await self._send(doc)

    async def _resume_recorded_job(self, doc: dict[str, Any], job_id: int) -> Outcome | None:
        """A job id was committed earlier (maybe before a crash): never send blindly again.
        None when the document must be sent afresh."""
        info = await self.client.job(job_id)
        if info is not None and info.state == JOB_COMPLETED:
            return await self._completed(doc, job_id)
        if info is not None and info.documents > 0 and not info.final:
            return await self._wait(doc, job_id)
        if info is not None and not info.final:
            # Created but its document never arrived (crash while sending).
            await self.client.cancel(job_id)
        log.info("document %s: CUPS job %s did not print, sending again", doc["id"], job_id)
        await self._set(doc["id"], doc["state"], cups_job_id=None)
        doc["cups_job_id"] = None
        if info is not None and info.state in (JOB_CANCELED, JOB_ABORTED):
            return "job_failed"
        return None

    async def _printer_ready(self, doc: dict[str, Any]) -> bool:
        """True when a job sent now should print; otherwise says why (retrying)."""
        kind = doc["kind"]
        status = await self.client.printer_status()
        self.printer = status
        if status.state == "unreachable":
            raise CupsUnreachable("CUPS does not answer")
        if status.missing:
            raise QueueMissing(self.client.queue)
        if not status.accepting:
            await self._retrying(doc, messages.not_accepting(self.client.queue, kind))
            return False
        if not status.ready:
            msgs = messages.printer_blocked(status.reasons, self.client.queue, kind)
            await self._retrying(doc, msgs)
            return False
        return True

    async def _send(self, doc: dict[str, Any]) -> Outcome:
        doc_id, kind = doc["id"], doc["kind"]
        pdf = await asyncio.to_thread(render_document, kind, doc["payload"], self.settings.paper)
        if hashlib.sha256(pdf).hexdigest() != doc["pdf_sha256"]:
            log.warning("document %s renders differently than when stored", doc_id)
        job_id = await self.client.create_job(f"kiosk {kind} {doc_id}")
        # Committed before the job has its document: a crash now never prints twice.
        await self._set(doc_id, "queued", cups_job_id=job_id, attempts=doc["attempts"] + 1)
        self.publish(doc_id, kind, "queued", messages.printing(kind))
        await self.client.send_document(job_id, pdf)
        await self._set(doc_id, "printing")
        self.publish(doc_id, kind, "printing", messages.printing(kind))
        log.info("document %s: CUPS job %d sent", doc_id, job_id)
        return await self._wait(doc, job_id)

    async def _wait(self, doc: dict[str, Any], job_id: int) -> Outcome:
        deadline = time.monotonic() + self.settings.job_timeout_s
        while True:
            info = await self.client.job(job_id)
            if info is None or info.state in (JOB_CANCELED, JOB_ABORTED):
                log.warning("document %s: CUPS job %d ended without printing", doc["id"], job_id)
                await self._set(doc["id"], "retrying", cups_job_id=None, error="job aborted")
                return "job_failed"
            if info.state == JOB_COMPLETED:
                return await self._completed(doc, job_id)
            status = await self.client.printer_status()
            self.printer = status
            if not status.ready:
                # Waiting on someone (paper, door, disabled queue): not the job's fault.
                deadline = time.monotonic() + self.settings.job_timeout_s
                if status.state != "unreachable":
                    msgs = messages.printer_blocked(status.reasons, self.client.queue, doc["kind"])
                    await self._retrying(doc, msgs)
            elif time.monotonic() > deadline:
                log.warning("document %s: CUPS job %d timed out, cancelling", doc["id"], job_id)
                await self.client.cancel(job_id)
                await self._set(doc["id"], "retrying", cups_job_id=None, error="job timeout")
                return "job_failed"
            await asyncio.sleep(self.settings.poll_interval_s)

    async def _completed(self, doc: dict[str, Any], job_id: int) -> Outcome:
        await self._set(doc["id"], "completed")
        self.publish(doc["id"], doc["kind"], "completed", messages.completed(doc["kind"]))
        log.info("document %s: CUPS job %d completed", doc["id"], job_id)
        return "completed"
