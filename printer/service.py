"""The "printer" component: prescriptions and the patient's copy of the consultation
report in, printed pages out.

    await ctx.components["printer"].submit_prescription(data, session_id)

validates (PrescriptionInvalid before anything is stored), renders, stores (committed),
then the worker prints; every state change is published as PrintJobUpdated."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

from hub.shared.prescription import parse_prescription
from hub.shared.record import ConsultationRecord
from hub.shared.report_pdf import render_report
from kiosk import ui_auth
from kiosk.component import Component, Context
from kiosk.events import PrintJobUpdated
from printer import messages
from printer.cups_client import CupsClient, PrinterStatus
from printer.errors import DocumentNotFound
from printer.messages import DocumentKind, Messages
from printer.render import render_prescription
from printer.store import DocState, DocumentStore
from printer.worker import PrintWorker

log = logging.getLogger(__name__)

# Printed documents are purged this often (retention.prescriptions_days).
PURGE_INTERVAL_S = 3600.0
# Fields of a stored document the API shows (never the payload: patient data).
PUBLIC_FIELDS = (
    "id",
    "session_id",
    "kind",
    "number",
    "state",
    "attempts",
    "created_at",
    "updated_at",
    "completed_at",
)


class PrinterService(Component):
    name = "printer"

    def __init__(self, ctx: Context, *, client: CupsClient | None = None) -> None:
        super().__init__(ctx)
        self.settings = ctx.settings.printer
        self.client = client or CupsClient(
            self.settings.queue, self.settings.cups_server, self.settings.job_options
        )
        self.store: DocumentStore | None = None
        self.worker: PrintWorker | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._pending = 0
        self._last_job: dict[str, Any] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.store = await asyncio.to_thread(DocumentStore, self.ctx.settings.storage.database)
        self.worker = PrintWorker(
            self.settings, self.client, self.store, self._publish, self._may_print
        )
        self._pending = await asyncio.to_thread(self.store.count_pending)
        if self._pending:
            log.info("printer: %d document(s) to print after restart", self._pending)
        self._tasks = [
            self.ctx.tasks.spawn(self.worker.run(), "printer-worker"),
            self.ctx.tasks.spawn(self._monitor(), "printer-monitor"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        self._tasks = []
        if self.store is not None:
            self.store.close()
            self.store = None

    async def _monitor(self) -> None:
        """Polls the printer for /api/status, wakes the worker when it comes back, purges."""
        last_purge = float("-inf")
        loop = asyncio.get_running_loop()
        while True:
            worker = self._worker()
            try:
                if worker.current is None or worker.blocked_messages is not None:
                    status = await self.client.printer_status()
                    was_ready = worker.printer.ready
                    worker.printer = status
                    if status.ready and not was_ready:
                        worker.kick.set()
                if worker.held and self.ctx.lifecycle.session_id is None:
                    worker.kick.set()  # the booth is free: print the held document now
                if loop.time() - last_purge > PURGE_INTERVAL_S:
                    last_purge = loop.time()
                    await self._purge()
                    self._pending = await asyncio.to_thread(self._store().count_pending)
            except Exception:
                # Status and purge are best effort; printing goes on in the worker.
                log.exception("printer monitor failed; trying again")
            await asyncio.sleep(self._monitor_period())

    def _monitor_period(self) -> float:
        worker = self._worker()
        if worker.blocked_messages is not None:
            # Something waits for the printer: notice its return quickly.
            return min(self.settings.status_interval_s, 1.0)
        return self.settings.status_interval_s

    async def _purge(self) -> None:
        keep = timedelta(days=self.ctx.settings.retention.prescriptions_days)
        before = self.ctx.lifecycle.clock() - keep
        removed = await asyncio.to_thread(self._store().purge, before)
        if removed:
            log.info("retention: purged %d printed document(s)", removed)

    def _store(self) -> DocumentStore:
        if self.store is None:
            raise RuntimeError("the printer component is not started")
        return self.store

    def _worker(self) -> PrintWorker:
        if self.worker is None:
            raise RuntimeError("the printer component is not started")
        return self.worker

    def _may_print(self, doc: Mapping[str, Any]) -> bool:
        """A document prints while its own patient is in the booth, or when nobody is:
        never into the hands of the next patient (invariant 3)."""
        owner, current = doc["session_id"], self.ctx.lifecycle.session_id
        return owner is None or current is None or owner == current

    # -- what other components call -----------------------------------------------------

    async def submit_prescription(
        self, data: Mapping[str, Any], session_id: str | None = None
    ) -> str:
        """Validate, store, queue. Raises PrescriptionInvalid before storing anything."""
        rx = parse_prescription(data)
        pdf = await asyncio.to_thread(render_prescription, rx, self.settings.paper)
        return await self._store_and_queue(
            "prescription", rx.prescription_number, rx.model_dump(mode="json"), pdf, session_id
        )

    async def submit_report(self, record: ConsultationRecord, session_id: str | None = None) -> str:
        """The patient's printed copy of the signed consultation report (kiosk/record),
        the PDF the GP receives (hub.shared.report_pdf), through the same path. The record
        is kept without the prescription's PDF (its number and digest are what prints)."""
        pdf = await asyncio.to_thread(render_report, record, self.settings.paper)
        return await self._store_and_queue(
            "report", record.record_id, record.model_dump(mode="json"), pdf, session_id
        )

    async def _store_and_queue(
        self,
        kind: DocumentKind,
        number: str,
        payload: dict[str, Any],
        pdf: bytes,
        session_id: str | None,
    ) -> str:
        doc_id = uuid.uuid4().hex
        session = session_id if session_id is not None else self.ctx.lifecycle.session_id
        await asyncio.to_thread(
            self._store().add,
            doc_id=doc_id,
            session_id=session,
            kind=kind,
            number=number,
            payload=payload,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        )
        log.info("document %s (%s) stored", doc_id, kind)
        what = "Votre ordonnance" if kind == "prescription" else "Votre compte rendu"
        self._publish(
            doc_id,
            kind,
            "stored",
            Messages(
                patient=f"{what} va être imprimé{'e' if kind == 'prescription' else ''}.",
                doctor="Document enregistré, envoi à l'imprimante.",
                technician="Document enregistré.",
            ),
        )
        self._worker().wake.set()
        return doc_id

    async def reprint(self, document_id: str) -> None:
        """Print a stored document again. DocumentNotFound when unknown or purged."""
        requeued = await asyncio.to_thread(self._store().requeue, document_id)
        if requeued:
            doc = await asyncio.to_thread(self._store().get, document_id)
            log.info("document %s: reprint requested", document_id)
            self._publish(document_id, doc["kind"], "stored", messages.printing(doc["kind"]))
            self._worker().wake.set()

    def documents(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Stored documents (without their content), oldest first."""
        return [{k: doc[k] for k in PUBLIC_FIELDS} for doc in self._store().list(session_id)]

    # -- events and status --------------------------------------------------------------

    def _publish(self, doc_id: str, kind: DocumentKind, state: DocState, msgs: Messages) -> None:
        self._last_job = {"document_id": doc_id, "document": kind, "state": state}
        if state in ("completed", "failed", "stored") and self.store is not None:
            self._pending = self.store.count_pending()
        self.ctx.bus.publish(
            PrintJobUpdated(
                document_id=doc_id,
                document=kind,
                state=state,
                message_patient=msgs.patient,
                message_doctor=msgs.doctor,
                message_technician=msgs.technician,
            )
        )

    def status(self) -> dict[str, Any]:
        worker = self.worker
        printer = worker.printer if worker is not None else None
        blocked = worker.blocked_messages if worker is not None else None
        state = printer.state if printer is not None else "idle"
        if worker is not None and worker.current is not None and blocked is None:
            state = "printing"
        reasons = list(printer.reasons) if printer is not None else []
        message = blocked.technician if blocked is not None else ""
        if not message and printer is not None:
            message = _idle_message(printer, self.settings.queue, self.client.server)
        return {
            "queue": self.settings.queue,
            "state": state,
            "reasons": reasons,
            "message": message,
            "pending": self._pending,
            "last_job": self._last_job,
        }

    # -- HTTP ---------------------------------------------------------------------------

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post("/api/print/{document_id}/reprint", self._reprint_route),
            web.get("/api/print/documents", self._documents_route),
        ]

    async def _reprint_route(self, request: web.Request) -> web.Response:
        if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
            return denied
        doc_id = request.match_info["document_id"]
        try:
            doc = await asyncio.to_thread(self._store().get, doc_id)
            if not self._may_print(doc):
                return web.json_response(
                    {"error": "ce document appartient à une autre consultation"}, status=403
                )
            await self.reprint(doc_id)
        except DocumentNotFound:
            return web.json_response({"error": "no such document"}, status=404)
        return web.json_response({"document_id": doc_id, "state": "queued"}, status=202)

    async def _documents_route(self, request: web.Request) -> web.Response:
        if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
            return denied
        # The screen sees the current consultation's documents only (invariant 3).
        session = self.ctx.lifecycle.session_id
        docs = await asyncio.to_thread(self.documents, session) if session is not None else []
        return web.json_response(docs)


def _idle_message(printer: PrinterStatus, queue: str, server: str | None) -> str:
    """For the technician, when nothing is waiting to print."""
    if printer.state == "unreachable":
        return messages.unreachable(server, "prescription").technician
    if printer.missing:
        return messages.queue_missing(queue, "prescription").technician
    if not printer.accepting:
        return messages.not_accepting(queue, "prescription").technician
    if not printer.ready:
        return messages.printer_blocked(printer.reasons, queue, "prescription").technician
    return " ".join(messages.warnings(printer.reasons))


def printer_component(ctx: Context) -> Component:
    return PrinterService(ctx)
