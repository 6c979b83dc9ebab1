"""What the cabin tells the hub, taken from the durable records and the bus.

- Session events and hygiene log entries come from their own durable tables (the
  lifecycle's ``transitions``, the ``hygiene_log``), copied into the outbox in order from
  the last one copied: a crash between a transition's commit and the copy loses nothing.
- The status (state, lock, instruments, printer, last disinfection) is rebuilt at most
  once a second after anything it shows changed, and replaces the older ones.
- Who waits for a doctor is live state, never stored: sent on every change and after every
  reconnect, only while the hub is reachable."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import sqlite3
from datetime import datetime
from typing import Any

from hub.shared import wire
from hygiene import log as hlog
from kiosk.component import Context
from kiosk.events import (
    CallStateChanged,
    DisinfectionLogged,
    InstrumentStateChanged,
    PrintJobUpdated,
)
from kiosk.hub_link.outbox import Outbox
from kiosk.lifecycle import State, StateChanged

log = logging.getLogger(__name__)

# A burst of changes (instruments waking up, a print job's steps) gives one status.
STATUS_EVERY_S = 1.0
# Printer reasons (IPP printer-state-reasons) that mean paper must be added soon.
PAPER_REASONS = ("media-low", "media-empty", "media-needed")


def software_version() -> str:
    try:
        return importlib.metadata.version("cabin-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Reporter:
    def __init__(self, ctx: Context, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox
        self._dirty = asyncio.Event()
        self.on_queued: list[Any] = []  # callables: the link's "send what is new"

    # -- durable records -------------------------------------------------------------

    def copy_records(self) -> int:
        """Transitions, hygiene entries and prescriptions not yet in the outbox; how many
        were added."""
        return self._copy_transitions() + self._copy_hygiene() + self._copy_prescriptions()

    def _copy_transitions(self) -> int:
        conn = self.outbox.conn
        last = int(self.outbox.meta("transition_seq") or 0)
        rows = conn.execute(
            "SELECT seq, at, from_state, to_state, session_id FROM transitions "
            "WHERE seq > ? ORDER BY seq LIMIT 500",
            (last,),
        ).fetchall()
        added = 0
        for row in rows:
            event = wire.SessionEvent(
                session_id=row["session_id"],
                state=row["to_state"],
                previous=row["from_state"],
                at=datetime.fromisoformat(row["at"]),
                appointment_id=self._appointment_of(row["session_id"], row["to_state"]),
            )
            self.outbox.put_once(
                "session_event",
                event.model_dump(mode="json"),
                key=f"transition-{self.outbox.epoch}-{row['seq']}",
                meta=("transition_seq", str(row["seq"])),
            )
            added += 1
        return added

    def _appointment_of(self, session_id: str | None, state: str) -> str | None:
        """The booking the patient checked in with, while it is still known (waiting)."""
        if state != State.WAITING.value or session_id is None:
            return None
        patient = getattr(self.ctx.components.get("checkin"), "patient", None)
        if patient is None or patient.session_id != session_id or patient.walk_in:
            return None
        appointment_id = patient.appointment_id
        return appointment_id if isinstance(appointment_id, str) else None

    def _copy_prescriptions(self) -> int:
        last = int(self.outbox.meta("prescription_seq") or 0)
        try:
            rows = self.outbox.conn.execute(
                "SELECT seq, id, number, session_id, pdf_sha256, created_at "
                "FROM print_documents WHERE seq > ? AND kind = 'prescription' "
                "ORDER BY seq LIMIT 500",
                (last,),
            ).fetchall()
        except sqlite3.OperationalError:
            return 0  # the printer has not created its table yet (first start)
        for row in rows:
            signed = wire.PrescriptionSigned(
                document_id=row["id"],
                number=row["number"],
                session_id=row["session_id"],
                signed_at=datetime.fromisoformat(row["created_at"]),
                pdf_sha256=row["pdf_sha256"],
            )
            self.outbox.put_once(
                "prescription",
                signed.model_dump(mode="json"),
                key=f"prescription-{row['id']}",
                meta=("prescription_seq", str(row["seq"])),
            )
        return len(rows)

    def _copy_hygiene(self) -> int:
        last = int(self.outbox.meta("hygiene_seq") or 0)
        entries = hlog.entries_after(self.outbox.conn, last)
        return self.outbox.reconcile_hygiene([e_json(e) for e in entries])

    # -- the status ------------------------------------------------------------------

    def status(self) -> wire.CabinStatus:
        lc = self.ctx.lifecycle
        comps = self.ctx.components
        instruments = []
        for inst in _call(comps.get("instruments"), "status") or []:
            instruments.append(
                wire.InstrumentStatus(
                    name=inst["name"],
                    kind=inst["kind"],
                    state=inst["state"],
                    detail=inst.get("detail", "")[:300],
                    battery_percent=inst.get("battery_percent"),
                )
            )
        printer_doc = _call(comps.get("printer"), "status")
        printer = None
        if isinstance(printer_doc, dict):
            reasons = [str(r) for r in printer_doc.get("reasons", [])]
            printer = wire.PrinterStatus(
                state=str(printer_doc.get("state", "?"))[:32],
                message=str(printer_doc.get("message", ""))[:300],
                paper_low=any(r.startswith(PAPER_REASONS) for r in reasons),
            )
        hygiene_doc = _call(comps.get("hygiene"), "status")
        awaiting = hygiene_doc.get("awaiting_since") if isinstance(hygiene_doc, dict) else None
        call_doc = _call(comps.get("call"), "status")
        last = hlog.entries(self.outbox.conn, limit=1)
        return wire.CabinStatus(
            state=lc.state.value,
            locked=lc.locked,
            since=lc.since,
            session_active=lc.session_id is not None,
            call_state=call_doc.get("call_state") if isinstance(call_doc, dict) else None,
            instruments=instruments,
            printer=printer,
            last_disinfection=None
            if not last
            else wire.LastDisinfection(
                at=datetime.fromisoformat(last[0].content["ended_at"]),
                seq=last[0].seq,
                hash=last[0].hash,
            ),
            awaiting_disinfection_since=None
            if awaiting is None
            else datetime.fromisoformat(awaiting),
            software_version=software_version(),
        )

    def queue_status(self) -> None:
        self.outbox.put("status", self.status().model_dump(mode="json"), replaces_older=True)

    # -- who waits -------------------------------------------------------------------

    def waiting_frame(self) -> wire.WaitingPatientFrame:
        lc = self.ctx.lifecycle
        patient = None
        if lc.state is State.WAITING and lc.session_id is not None:
            patient = self._waiting_patient(lc.session_id, lc.since)
        return wire.WaitingPatientFrame(
            type="waiting_patient",
            session_id=lc.session_id if patient is not None else None,
            patient=patient,
        )

    def _waiting_patient(self, session_id: str, since: datetime) -> wire.WaitingPatient | None:
        checkin = self.ctx.components.get("checkin")
        session = getattr(checkin, "patient", None)
        if session is None or session.session_id != session_id or session.age is None:
            return None
        appointment_start = None
        if session.appointment_id is not None:
            appt = self.ctx.appointments.get(session.appointment_id)
            appointment_start = appt.slot_start if appt is not None else None
        doctor_view = session.for_doctor() or {}
        return wire.WaitingPatient(
            given_name=session.given_name[:100] or "?",
            age=session.age,
            reason=str(doctor_view.get("reason", ""))[:500],
            appointment_start=appointment_start,
            walk_in=session.walk_in,
            waiting_since=since,
        )

    # -- the loop --------------------------------------------------------------------

    async def run(self, send_live: Any) -> None:
        """Follows the bus; ``send_live`` takes the waiting-patient frame."""
        async with self.ctx.bus.subscribe(
            StateChanged,
            InstrumentStateChanged,
            PrintJobUpdated,
            DisinfectionLogged,
            CallStateChanged,
        ) as sub:
            self._dirty.set()
            flusher = self.ctx.tasks.spawn(self._flush_status(), "hub-status")
            try:
                async for event in sub:
                    if isinstance(event, StateChanged | DisinfectionLogged | PrintJobUpdated):
                        self.copy_records()
                        self._queued()
                    if isinstance(event, StateChanged):
                        await send_live(self.waiting_frame())
                    self._dirty.set()
            finally:
                flusher.cancel()

    async def _flush_status(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                self.queue_status()
                self._queued()
            except Exception:  # a status is informative: never lose the loop over one
                log.exception("hub link: building the status failed")
            await asyncio.sleep(STATUS_EVERY_S)

    def _queued(self) -> None:
        for callback in self.on_queued:
            callback()


def e_json(entry: hlog.LogEntry) -> dict[str, Any]:
    return {"content": entry.content, "prev_hash": entry.prev_hash, "hash": entry.hash}


def _call(component: Any, name: str) -> Any:
    method = getattr(component, name, None)
    return None if method is None else method()
