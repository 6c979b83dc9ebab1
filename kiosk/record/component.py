"""The "record" component: the cabin's half of the consultation record.

- The doctor attached (the hub link calls ``doctor_attached``): the parts open, with the
  patient's identity while the check-in still has it.
- Each measurement of the session: kept (committed as it comes).
- The report signed at the hub (``report_signed``): kept, for the patient's copy.
- Checkout: the end is kept; the screen asks "Voulez-vous un compte rendu imprimé ?"
  (GET/POST /api/ui/record/copy); yes prints it (the printer's 'report' kind).
- The session over (and the copy printed, or given up): the record is handed to the hub
  (kiosk/record/handover.py); the hub's acknowledgement deletes the printed documents.

A restart hands over what a finished session left (the parts survive a SIGKILL)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from hub.shared import wire
from hub.shared.record import Practitioner, observations_from_measurement
from kiosk import ui_auth
from kiosk.component import Component, Context
from kiosk.events import MeasurementTaken, PrintJobUpdated
from kiosk.lifecycle import PATIENT_STATES, State, StateChanged
from kiosk.record.copy import can_print, copy_record
from kiosk.record.handover import Handover, after_acknowledged, log_failure, prescription_of
from kiosk.record.parts import PartsStore

log = logging.getLogger(__name__)


class CopyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    print: bool


def practitioner_of(doctor: wire.DoctorProfile) -> Practitioner | None:
    """The signer as the record names them; None without a valid RPPS (no copy then)."""
    try:
        return Practitioner(name=doctor.display_name, rpps=doctor.rpps or "",
                            specialty=doctor.specialty)  # fmt: skip
    except ValidationError:
        return None


class RecordComponent(Component):
    name = "record"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        database = ctx.settings.storage.database
        self.parts = PartsStore(database)
        self.handover = Handover(
            database, cabin_id=ctx.settings.site.cabin_id, paper=ctx.settings.printer.paper
        )
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[Any] | None = None
        self.handed_over = 0

    async def start(self) -> None:
        outbox = getattr(self.ctx.components.get("hub"), "outbox", None)
        if outbox is not None:
            outbox.on_acknowledged.append(after_acknowledged)
        lc = self.ctx.lifecycle
        if lc.state is State.CHECKOUT and lc.session_id is not None:
            # Recovered into checkout (kiosk/lifecycle): its event came before this start.
            self.parts.ended(lc.session_id, lc.since)
        sub = self.ctx.bus.subscribe(StateChanged, MeasurementTaken, PrintJobUpdated)
        self._task = self.ctx.tasks.spawn(self._follow(sub), "record-parts")
        await self.hand_over_finished()  # what a crash or a stop left

    async def stop(self) -> None:
        # A handover under way finishes first (its thread cannot be cancelled).
        async with self._lock:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self.parts.close()
            self.handover.close()

    def status(self) -> Any:
        return {"handed_over": self.handed_over}

    # -- what the hub link calls -----------------------------------------------------

    def doctor_attached(self, frame: wire.DoctorAttached) -> None:
        # Called in the hub link's reader: a failure here must not cut the link.
        try:
            self._attached(frame)
        except Exception as exc:
            log_failure("record: the doctor's arrival could not be kept", exc)

    def _attached(self, frame: wire.DoctorAttached) -> None:
        lc = self.ctx.lifecycle
        if frame.session_id != lc.session_id or lc.state not in PATIENT_STATES:
            return
        checkin = self.ctx.components.get("checkin")
        identity = getattr(checkin, "identity_for_record", lambda: None)()
        self.parts.attached(
            frame.session_id,
            frame.consultation_id,
            datetime.now(UTC),
            practitioner_of(frame.doctor),
            identity,
        )

    def report_signed(self, frame: wire.ReportSigned) -> None:
        try:
            kept = self.parts.signed(
                frame.session_id, frame.consultation_id, frame.report, frame.signed_at
            )
        except Exception as exc:
            log_failure("record: the signed report could not be kept", exc)
            return
        if not kept:
            log.info("record: a signed report for a session without parts was not kept")

    # -- the bus -----------------------------------------------------------------------

    async def _follow(self, sub: Any) -> None:
        async with sub:
            async for event in sub:
                try:
                    await self._on(event)
                except Exception as exc:  # a disk error: logged, the next event is kept
                    log_failure(f"record: keeping {type(event).__name__} failed", exc)

    async def _on(self, event: Any) -> None:
        if isinstance(event, MeasurementTaken):
            self._measured(event)
        elif isinstance(event, StateChanged):
            if event.state is State.CHECKOUT and event.session_id is not None:
                self.parts.ended(event.session_id, event.at)
            await self.hand_over_finished()
        elif event.document == "report" and event.state in ("completed", "failed"):
            await self.hand_over_finished()

    def _measured(self, event: MeasurementTaken) -> None:
        lc = self.ctx.lifecycle
        measurement = event.measurement
        if lc.session_id is None or lc.state not in PATIENT_STATES or measurement.intermediate:
            return
        observations = observations_from_measurement(
            measurement.to_json(), event.instrument, event.at
        )
        if observations:
            self.parts.add_observations(lc.session_id, observations)

    async def hand_over_finished(self) -> None:
        """Every session with parts but the one in the booth: its record goes to the hub."""
        async with self._lock:
            lc = self.ctx.lifecycle
            running = lc.session_id if lc.state in PATIENT_STATES else None
            for session_id in self.parts.sessions():
                if session_id == running:
                    continue
                # While its patient may still be at the tray, the copy may finish printing.
                force = session_id != lc.session_id
                try:
                    seq = await asyncio.to_thread(self.handover.hand_over, session_id, force=force)
                except Exception as exc:
                    log_failure(f"record: handing over session {session_id} failed", exc)
                    continue
                if seq is not None:
                    self.handed_over += 1
                    self._wake_link()

    def _wake_link(self) -> None:
        link = getattr(self.ctx.components.get("hub"), "link", None)
        if link is not None:
            link.wake()

    # -- the touchscreen: the printed copy -----------------------------------------------

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/api/ui/record/copy", self._get_copy),
            web.post("/api/ui/record/copy", self._post_copy),
        ]

    def _checkout_session(self) -> str | None:
        lc = self.ctx.lifecycle
        return lc.session_id if lc.state is State.CHECKOUT else None

    async def _get_copy(self, request: web.Request) -> web.Response:
        """Whether to ask the patient now (at checkout, a signed report there)."""
        if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
            return denied
        session_id = self._checkout_session()
        parts = None if session_id is None else self.parts.get(session_id)
        if session_id is None or parts is None or not can_print(parts):
            return web.json_response({"ask": False, "copy": "not_offered"})
        if parts.copy == "not_offered":
            self.parts.offered(session_id)
        copy = "offered" if parts.copy == "not_offered" else parts.copy
        return web.json_response(
            {"ask": copy == "offered", "copy": copy,
             "document_id": parts.copy_document_id}
        )  # fmt: skip

    async def _post_copy(self, request: web.Request) -> web.Response:
        """The patient's answer: {"print": true} prints the copy, false declines it."""
        if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
            return denied
        try:
            answer = CopyIn.model_validate(await request.json())
        except (ValueError, ValidationError):
            return _refused(400, "bad_request", "La demande est illisible.")
        session_id = self._checkout_session()
        refused = self._copy_refused(session_id)
        if refused is not None or session_id is None:
            return refused or _refused(409, "not_checkout", "La consultation n'est pas terminée.")
        if not answer.print:
            self.parts.set_copy(session_id, "declined")
            return web.json_response({"copy": "declined"})
        return await self._print_copy(session_id)

    def _copy_refused(self, session_id: str | None) -> web.Response | None:
        if session_id is None:
            return _refused(409, "not_checkout", "La consultation n'est pas terminée.")
        parts = self.parts.get(session_id)
        if parts is None or not can_print(parts):
            return _refused(409, "no_report", "Le compte rendu n'est pas encore signé.")
        if parts.copy == "asked":
            return _refused(409, "already_asked", "Le compte rendu est déjà demandé.")
        return None

    async def _print_copy(self, session_id: str) -> web.Response:
        submit = getattr(self.ctx.components.get("printer"), "submit_report", None)
        if submit is None:
            return _refused(503, "no_printer", "Cette cabine n'a pas d'imprimante.")
        parts = self.parts.get(session_id)
        assert parts is not None
        site = self.ctx.settings.site
        hours = self.ctx.hours
        try:
            prescribed = prescription_of(self.parts.conn, session_id, None, with_pdf=False)
            record = copy_record(
                parts,
                prescribed,
                cabin_id=site.cabin_id,
                site_id=(hours.site_code if hours is not None else None) or site.cabin_id,
                site_name=site.name,
            )
            document_id = await submit(record, session_id)
        except Exception as exc:
            log_failure(f"record: the copy of session {session_id} could not be printed", exc)
            self.parts.set_copy(session_id, "asked")  # no document: it counts as failed
            return _refused(503, "print_failed", "Le compte rendu ne peut pas être imprimé.")
        self.parts.set_copy(session_id, "asked", document_id)
        return web.json_response({"copy": "asked", "document_id": document_id}, status=202)


def _refused(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": message, "code": code}, status=status)


def record_component(ctx: Context) -> Component:
    return RecordComponent(ctx)
