"""The INS traits and GP at check-in (API level) and ``identity_for_record``, the
contract the cabin's consultation record calls."""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.shared.ins import GeneralPractitioner, Patient
from kiosk.appointments import AppointmentStore
from kiosk.lifecycle import State
from tests.appointments import push_appointment
from tests.ui.conftest import StartCabin, wait_until

# Hélène Dupont, born 2 March 1948 in Paris: a NIR whose key is 73.
NIR = "248037505612373"
NIR_WRONG_KEY = "248037505612312"
BOOKED = Patient(
    birth_name="Martin",
    first_names="Hélène Marie",
    used_name="Dupont",
    birth_date=date(1948, 3, 2),
    sex="F",
    birth_place="75056",
    ins_number=NIR,
)
GP = GeneralPractitioner(name="Dr Claire Petit", mssante="claire.petit@medecin.mssante.fr")
IDENT = {"family_name": "Dupont", "given_name": "Hélène", "birth_date": "1948-03-02"}
CONSENT = {"teleconsultation": True, "data_processing": True}


def record_of(cabin: Any) -> tuple[Patient, GeneralPractitioner | None] | None:
    result: tuple[Patient, GeneralPractitioner | None] | None
    result = cabin.ctx.components["checkin"].identity_for_record()
    return result


async def walk_in_to_details(cabin: Any) -> None:
    assert (await cabin.post("/api/ui/checkin/start"))[0] == 200
    assert (await cabin.post("/api/ui/checkin/walk-in"))[0] == 200
    assert record_of(cabin) is None  # nobody identified yet
    status, body = await cabin.post("/api/ui/checkin/identity", IDENT)
    assert (status, body["step"]) == (200, "details")


async def test_nobody_identified_outside_a_session(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    assert record_of(cabin) is None


async def test_walk_in_who_skips_is_named_by_what_they_typed(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    await walk_in_to_details(cabin)
    status, prefilled = await cabin.get("/api/ui/checkin/details")
    assert status == 200 and prefilled["from_booking"] is False
    assert prefilled["ins_number"] is None
    # Skipping the details is going straight to the consent.
    assert (await cabin.post("/api/ui/checkin/consent", CONSENT))[0] == 200
    record = record_of(cabin)
    assert record is not None
    patient, gp = record
    assert (patient.birth_name, patient.first_names) == ("Dupont", "Hélène")
    assert patient.birth_date == date(1948, 3, 2)
    assert patient.sex is None and patient.ins_number is None and gp is None


async def test_walk_in_wrong_key_refused_then_right_one(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    await walk_in_to_details(cabin)
    status, body = await cabin.post(
        "/api/ui/checkin/details", {"ins_number": NIR_WRONG_KEY, "sex": "F"}
    )
    assert status == 422 and body["code"] == "invalid_details"
    assert body["field"] == "ins_number"
    assert body["error"] == "clé du NIR incorrecte : attendu 73, reçu 12"
    checkin = cabin.ctx.components["checkin"]
    assert checkin.patient.step == "details" and checkin.patient.ins is None
    # A NIR of a man, or of another birth month: refused, with the reason.
    status, body = await cabin.post("/api/ui/checkin/details", {"ins_number": NIR, "sex": "M"})
    assert status == 422 and "sexe" in body["error"]
    status, body = await cabin.post(
        "/api/ui/checkin/details", {"birth_place": "7505", "ins_number": NIR}
    )
    assert (status, body["field"]) == (422, "birth_place")
    status, body = await cabin.post(
        "/api/ui/checkin/details", {"gp_mssante": "claire.petit@medecin.mssante.fr"}
    )
    assert (status, body["field"]) == (422, "gp_name")
    assert checkin.patient.step == "details" and checkin.patient.gp is None
    status, body = await cabin.post(
        "/api/ui/checkin/details",
        {
            "ins_number": "2 48 03 75 056 123 73",
            "birth_place": "75056",
            "sex": "F",
            "gp_name": "Dr Claire Petit",
            "gp_mssante": "claire.petit@medecin.mssante.fr",
        },
    )
    assert (status, body["step"]) == (200, "consent")
    assert (await cabin.post("/api/ui/checkin/consent", CONSENT))[0] == 200
    record = record_of(cabin)
    assert record is not None
    patient, gp = record
    assert patient.ins_number == NIR and patient.ins_oid == "1.2.250.1.213.1.4.8"
    assert (patient.birth_name, patient.first_names, patient.sex) == ("Dupont", "Hélène", "F")
    assert patient.birth_place == "75056"
    assert gp == GP
    assert checkin.current_patient()["sex"] == "F"


async def test_booked_patient_sees_the_booking_traits(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    store: AppointmentStore = cabin.ctx.appointments
    push_appointment(store, sex="F", patient=BOOKED, general_practitioner=GP)
    assert (await cabin.post("/api/ui/checkin/start"))[0] == 200
    assert (await cabin.post("/api/ui/checkin/code", {"code": "123456"}))[0] == 200
    assert (await cabin.post("/api/ui/checkin/identity", IDENT))[0] == 200
    status, prefilled = await cabin.get("/api/ui/checkin/details")
    assert status == 200 and prefilled == {
        "from_booking": True,
        "ins_number": NIR,
        "birth_place": "75056",
        "sex": "F",
        "gp_name": "Dr Claire Petit",
        "gp_mssante": "claire.petit@medecin.mssante.fr",
    }
    # Skipped: the booking's traits name the patient.
    assert record_of(cabin) == (BOOKED, GP)
    # Confirmed as shown: the booking's birth name and first names are kept.
    body = {k: v for k, v in prefilled.items() if k != "from_booking"}
    assert (await cabin.post("/api/ui/checkin/details", body))[0] == 200
    assert record_of(cabin) == (BOOKED, GP)
    assert (await cabin.post("/api/ui/checkin/consent", CONSENT))[0] == 200
    # Wiped with the session.
    checkin = cabin.ctx.components["checkin"]
    assert (await cabin.post("/api/ui/checkin/abandon"))[0] == 200
    await wait_until(lambda: checkin.patient is None)
    assert record_of(cabin) is None
    assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION


async def test_session_repr_hides_the_ins(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    await walk_in_to_details(cabin)
    body = {"ins_number": NIR, "gp_name": "Dr Claire Petit"}
    assert (await cabin.post("/api/ui/checkin/details", body))[0] == 200
    shown = repr(cabin.ctx.components["checkin"].patient)
    assert NIR not in shown and "Petit" not in shown and "Dupont" not in shown
