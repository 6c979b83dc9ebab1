"""The checkout screen tells the patient about the prescription printed during the call
(before that screen existed), or that there is none, from the daemon's document list;
with a signed report it asks "Voulez-vous un compte rendu imprimé ?": yes prints it
through the real CUPS (cups-pdf), no declines it, and the record says which."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.shared import wire
from hub.shared.record import Report
from kiosk.events import PrintJobUpdated
from kiosk.lifecycle import State
from kiosk.record.component import RecordComponent
from kiosk.ui.screens.consultation import CheckoutScreen, ConsultationScreen
from tests.printer.cups_env import pdf_text, printed_copies
from tests.ui.conftest import RunningCabin, StartCabin, wait_until
from tests.ui.pilot_helpers import on_screen, text_of, touch, touchscreen, until

SAMPLE = Path(__file__).resolve().parents[2] / "printer" / "samples" / "prescription.json"
PRINT_S = 30.0  # real CUPS + cups-pdf on a loaded machine


async def test_no_prescription_is_said_plainly(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        await until(pilot, lambda: "pas envoyé d'ordonnance" in text_of(app, "#print-status"))
        assert not app.screen.query("#reprint")


async def test_prescription_printed_during_the_call_shows_as_printed(
    start_cabin: StartCabin,
) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    ctx = cabin.ctx
    ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    async with ctx.bus.subscribe(PrintJobUpdated) as jobs:
        printer = ctx.components["printer"]
        data = json.loads(SAMPLE.read_text(encoding="utf-8"))
        await printer.submit_prescription(data, ctx.lifecycle.session_id)  # type: ignore[attr-defined]
        states: list[str] = []
        async with asyncio.timeout(PRINT_S):
            while not states or states[-1] not in ("completed", "failed"):
                states.append((await jobs.get()).state)
        assert states[-1] == "completed", states
    # Only now does the patient's screen reach checkout: no print event will come.
    async with touchscreen(cabin) as (app, pilot):
        ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        await until(pilot, lambda: "ordonnance est imprimée" in text_of(app, "#print-status"))
    await wait_until(lambda: ctx.lifecycle.state is State.CHECKOUT)


# -- the patient's printed copy of the signed report (kiosk/record) ------------------------

CONCLUSION = "Angine virale, pas d'antibiotique"


def doctor_signed(cabin: RunningCabin) -> str:
    """The hub's frames, as the hub link hands them to the record: the doctor attached,
    then signed the report. The consultation's id."""
    ctx = cabin.ctx
    session_id = ctx.lifecycle.session_id
    assert session_id is not None
    record = ctx.components["record"]
    assert isinstance(record, RecordComponent)
    consultation_id = f"c-{uuid.uuid4().hex[:12]}"
    doctor = wire.DoctorProfile(id="dr.martin", display_name="Dr Claire Martin",
                                rpps="10003456786")  # fmt: skip
    attached = wire.DoctorAttached(
        type="doctor_attached", consultation_id=consultation_id, session_id=session_id,
        doctor=doctor,
    )  # fmt: skip
    record.doctor_attached(attached)
    ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    signed = wire.ReportSigned(
        type="report_signed", consultation_id=consultation_id, session_id=session_id,
        report=Report(reason="Mal de gorge", conclusion=CONCLUSION), signed_at=datetime.now(UTC),
    )  # fmt: skip
    record.report_signed(signed)
    return consultation_id


def queued_record(cabin: RunningCabin, consultation_id: str) -> dict[str, Any]:
    """The record the cabin queued for the hub (this cabin has no hub: it stays queued)."""
    outbox = cabin.ctx.components["hub"].outbox  # type: ignore[attr-defined]
    items = [i for i in outbox.after(0, 1000) if i.kind == "consultation_record"]
    assert [i.key for i in items] == [f"record-{consultation_id}"]
    payload: dict[str, Any] = items[0].payload
    return payload


async def test_the_patient_asks_for_the_printed_report(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    consultation_id = doctor_signed(cabin)
    since = time.time()
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        await until(pilot, lambda: bool(app.screen.query("#copy-question")), 10.0)
        assert "Voulez-vous un compte rendu imprimé ?" in text_of(app, "#copy-question")
        await touch(pilot, "#copy-yes")
        await until(
            pilot, lambda: "compte rendu est imprimé" in text_of(app, "#copy-status"), PRINT_S
        )
        assert not app.screen.query("#copy-yes")
    copies = await wait_until_found(consultation_id, since)
    assert CONCLUSION in " ".join(pdf_text(copies[0]).split())

    status, _ = await cabin.post("/api/ui/leave")
    assert status == 200
    await wait_until(lambda: queued_record_or_none(cabin))
    assert queued_record(cabin, consultation_id)["printed_copy"] == "printed"


async def test_the_patient_declines_the_printed_report(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    consultation_id = doctor_signed(cabin)
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        await until(pilot, lambda: bool(app.screen.query("#copy-no")), 10.0)
        await touch(pilot, "#copy-no")
        await until(pilot, lambda: not app.screen.query("#copy-question"))
        await touch(pilot, "#leave")
        await wait_until(lambda: cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION)
    await wait_until(lambda: queued_record_or_none(cabin))
    assert queued_record(cabin, consultation_id)["printed_copy"] == "declined"


def queued_record_or_none(cabin: RunningCabin) -> bool:
    outbox = cabin.ctx.components["hub"].outbox  # type: ignore[attr-defined]
    return any(i.kind == "consultation_record" for i in outbox.after(0, 1000))


async def wait_until_found(number: str, since: float) -> list[Path]:
    found: list[Path] = []

    def printed() -> bool:
        found[:] = printed_copies(number, since)
        return bool(found)

    await wait_until(printed, PRINT_S)
    return found
