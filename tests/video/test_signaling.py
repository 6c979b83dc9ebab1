"""The call's signaling, relayed by the hub, and its data channel, with an aiortc "doctor"
(no browser) who logged in at the hub and took the patient: validation, the call itself,
events both ways. (The login itself: tests/hub/test_login.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from devices.measurement import Measurement, Observation
from hub.store.models import AuditEntry
from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    ConsultationEndRequested,
    MeasurementRequested,
    MeasurementTaken,
    PatientInstruction,
    PrintJobUpdated,
)
from kiosk.hub_link.component import HubLinkComponent
from kiosk.lifecycle import State
from tests.polling import until
from tests.video.conftest import MakeCabin, RunningCabin
from tests.video.doctor_client import DoctorClient, wait_for
from video.media_sdp import DEFAULT_HINT

GOOD_PRESCRIPTION: dict[str, Any] = {
    "prescriber": {
        "name": "Dr Claire Martin",
        "specialty": "Médecine générale",
        "rpps": "10003456786",
        "address": "1 rue X, 77000 Melun, France",
        "phone": "+33 1 23 45 67 89",
        "email": "c.martin@example.fr",
    },
    "patient": {
        "family_name": "Dupont",
        "given_name": "Hélène",
        "sex": "F",
        "birth_date": "1948-03-02",
    },
    "items": [
        {
            "medication": "Paracétamol 500 mg comprimé",
            "posology": "1 comprimé 3 fois par jour",
            "duration": "5 jours",
        }
    ],
    "issued_at": "2026-11-23T10:00:00+01:00",
}


@pytest.fixture
async def doctor(cabin: RunningCabin) -> AsyncIterator[DoctorClient]:
    client = DoctorClient(cabin.hub_url)
    try:
        yield client
    finally:
        await client.close()


def blood_pressure() -> Measurement:
    return Measurement(
        kind="blood_pressure",
        observations=(
            Observation("8480-6", "Systolic blood pressure", Decimal(128), "mm[Hg]"),
            Observation("8462-4", "Diastolic blood pressure", Decimal(81), "mm[Hg]"),
        ),
        status=("irregular_pulse",),
    )


async def test_malformed_messages_get_an_error_and_change_nothing(
    doctor: DoctorClient, cabin: RunningCabin
) -> None:
    await cabin.patient_waiting()
    await doctor.connect()
    await doctor.expect("state", cabin_state="waiting")
    published = cabin.ctx.bus.published
    for raw, fragment in [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "teleport"}', "type"),
        ('{"type": "measure", "id": "m1"}', "instrument"),
        ('{"type": "chat", "text": ""}', "text"),
        ('{"type": "join", "extra": 1}', "extra"),
    ]:
        await doctor.send(raw)
        error = await doctor.expect("error")
        assert fragment in error["message"], (raw, error)
    await doctor.send({"type": "measure", "id": "m2", "instrument": "tensiometre"})
    error = await doctor.expect("error", in_reply_to="m2")  # no consultation yet
    assert cabin.ctx.lifecycle.state is State.WAITING
    assert cabin.ctx.bus.published == published


async def test_join_connects_and_events_flow_both_ways(
    doctor: DoctorClient, cabin: RunningCabin
) -> None:
    bus = cabin.ctx.bus
    await cabin.patient_waiting()
    async with bus.subscribe(
        MeasurementRequested, ChatMessage, PatientInstruction, CallStateChanged
    ) as seen:
        await doctor.connect()
        await doctor.send({"type": "join"})
        await wait_for(lambda: cabin.ctx.lifecycle.state is State.IN_CONSULTATION)
        component = cabin.ctx.components["call"]
        peer = component.consultation.peer  # type: ignore[attr-defined]
        await wait_for(lambda: peer.frames.video > 5 and doctor.frames > 5)
        await wait_for(lambda: doctor.channel is not None and doctor.channel.readyState == "open")
        # The offer the doctor's browser got carries the VP8 bitrate floor for its sending.
        offer_lines = doctor.offers[0]["sdp"].split("\r\n")
        vp8 = [ln.split()[0][len("a=rtpmap:") :] for ln in offer_lines if " VP8/" in ln]
        assert vp8
        for pt in vp8:
            assert any(
                ln.startswith(f"a=fmtp:{pt} ") and ln.endswith(DEFAULT_HINT) for ln in offer_lines
            )

        bus.publish(MeasurementTaken(instrument="tensiometre", measurement=blood_pressure()))
        # (The simulated instrument may send its own readings too: find ours.)
        measured = await doctor.expect("measurement", instrument="tensiometre")
        while measured["measurement"]["observations"][0]["value"] != 128:
            measured = await doctor.expect("measurement", instrument="tensiometre")
        assert measured["measurement"]["status"] == ["irregular_pulse"]

        doctor.send_channel({"type": "chat", "text": "Bonjour, je vous entends bien."})
        doctor.send_channel({"type": "measure", "instrument": "tensiometre"})
        doctor.send_channel({"type": "instruction", "text": "Posez le bras sur la table."})
        bus.publish(ChatMessage(sender="patient", text="Bonjour docteur"))
        chat = await doctor.expect("chat", sender="patient")
        assert chat["text"] == "Bonjour docteur"

        got: dict[type, object] = {}
        async with __import__("asyncio").timeout(10):
            while len(got) < 3:
                event = await seen.get()
                if not isinstance(event, CallStateChanged):
                    got[type(event)] = event
        assert got[ChatMessage].sender == "doctor"  # type: ignore[attr-defined]
        assert got[MeasurementRequested].instrument == "tensiometre"  # type: ignore[attr-defined]
        assert got[PatientInstruction].source == "doctor"  # type: ignore[attr-defined]

        quality = await doctor.expect("call_quality")
        assert quality["frames_received"] > 0

        doctor.send_channel({"type": "end"})
        await wait_for(lambda: cabin.ctx.lifecycle.state is State.CHECKOUT)
        assert component.consultation.peer is None  # type: ignore[attr-defined]


async def test_doctor_absent_too_long_ends_in_checkout(make_cabin: MakeCabin) -> None:
    cabin = await make_cabin(absent=10)
    ctx = cabin.ctx
    doctor = DoctorClient(cabin.hub_url)
    try:
        await cabin.patient_waiting()
        async with ctx.bus.subscribe(ConsultationEndRequested) as ends:
            await doctor.connect()
            await doctor.send({"type": "join"})
            await wait_for(lambda: ctx.lifecycle.state is State.IN_CONSULTATION)
            await doctor.hang_up()  # the doctor's browser is gone
            await wait_for(lambda: ctx.lifecycle.state is State.CHECKOUT, limit_s=20)
            end = ends.get_nowait()
            assert end is not None and end.by == "timeout"
    finally:
        await doctor.close()


async def test_prescription_problems_and_print_jobs_reach_the_doctor(
    doctor: DoctorClient, cabin: RunningCabin
) -> None:
    await cabin.patient_waiting()
    await doctor.connect()
    await doctor.send({"type": "join"})
    await wait_for(lambda: cabin.ctx.lifecycle.state is State.IN_CONSULTATION)
    bad = {
        **GOOD_PRESCRIPTION,
        "prescriber": {**GOOD_PRESCRIPTION["prescriber"], "rpps": "10003456782"},
        "items": [{"medication": "Paracétamol 500 mg comprimé", "posology": "1 cp x3/j"}],
    }
    await doctor.send({"type": "prescription", "id": "rx1", "prescription": bad})
    error = await doctor.expect("error", in_reply_to="rx1")
    paths = {p["path"] for p in error["problems"]}
    assert "prescriber.rpps" in paths  # bad Luhn check digit
    assert "items.0.duration" in paths  # neither duration nor quantity
    # The free-text summary is gone (the structured report is signed at the hub).
    await doctor.send({"type": "summary", "id": "s1", "text": "Bronchite virale, repos."})
    refused = await doctor.expect("error", in_reply_to="s1")
    assert "summary" in refused["message"]
    cabin.ctx.bus.publish(
        PrintJobUpdated(
            document_id="doc-1",
            document="prescription",
            state="printing",
            message_doctor="Impression en cours",
        )
    )
    job = await doctor.expect("print_job", document_id="doc-1")
    assert (job["state"], job["message"]) == ("printing", "Impression en cours")


async def test_a_signed_prescription_is_audited_once_as_the_doctors(
    doctor: DoctorClient, cabin: RunningCabin
) -> None:
    """Audited from the cabin's record of it (the outbox), whichever way it was sent."""
    await cabin.patient_waiting()
    await doctor.connect()
    await doctor.send({"type": "join"})
    await wait_for(lambda: cabin.ctx.lifecycle.state is State.IN_CONSULTATION)
    await doctor.send({"type": "prescription", "id": "rx1", "prescription": GOOD_PRESCRIPTION})
    await doctor.expect("accepted", request="prescription")

    async def audited() -> list[AuditEntry]:
        async with cabin.hub.db.read() as s:
            return list(
                await s.scalars(select(AuditEntry).where(AuditEntry.action == "prescription"))
            )

    await until(audited, what="the prescription in the hub's audit")
    hub_link = cabin.ctx.components["hub"]
    assert isinstance(hub_link, HubLinkComponent)
    await until(lambda: hub_link.status()["outbox_pending"] == 0, what="the outbox sent")
    # Copying again adds nothing: the record is in the outbox once, sent once.
    assert hub_link.reporter.copy_records() == 0
    (entry,) = await audited()
    assert (entry.actor, entry.actor_role, entry.outcome) == ("dr.martin", "doctor", "ok")
    assert entry.target.startswith("call-01/")
    text = f"{entry.target} {entry.detail}"
    for private in ("Dupont", "Hélène", "Paracétamol"):
        assert private not in text


async def test_exam_camera_shown_and_hidden_by_the_doctor(make_cabin: MakeCabin) -> None:
    cabin = await make_cabin(exam=True)
    ctx = cabin.ctx
    doctor = DoctorClient(cabin.hub_url)
    try:
        await cabin.patient_waiting()
        await doctor.connect()
        state = await doctor.expect("state")
        assert state["exam_camera_available"] and not state["exam_camera_on"]
        await doctor.send({"type": "join"})
        await wait_for(lambda: ctx.lifecycle.state is State.IN_CONSULTATION)
        consultation = ctx.components["call"].consultation  # type: ignore[attr-defined]
        assert consultation.media.media.exam_visible is False
        await doctor.send({"type": "show_exam_camera", "on": True})
        await doctor.expect("state", exam_camera_on=True)
        assert consultation.media.media.exam_visible is True
        await wait_for(lambda: doctor.frames > 20)  # camera and exam camera both arrive
    finally:
        await doctor.close()


async def test_no_exam_camera_is_a_clear_error(doctor: DoctorClient, cabin: RunningCabin) -> None:
    await cabin.patient_waiting()
    await doctor.connect()
    await doctor.send({"type": "show_exam_camera", "id": "e1", "on": True})
    error = await doctor.expect("error", in_reply_to="e1")
    assert "no exam camera" in error["message"]
