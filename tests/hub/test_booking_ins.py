"""A booking's INS traits and GP: the booking API takes them, refuses a wrong NIR key, an
INS number that says another sex or birth month, an impossible birth place code, a
birth date in the future, a GP's RPPS with a wrong key, each on its field with
hub.shared.ins's French message and nothing booked; the booking carries them to the
cabin of its site, whose check-in offers them to the patient to confirm and names the
patient by them for the consultation record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.service import Hub
from hub.shared.ins import GeneralPractitioner, Patient
from hub.store.models import Booking, BookingChange
from tests.checkin_steps import checkin_requests
from tests.hub.conftest import MakeCabin
from tests.hub.test_booking_push import Touchscreen, fix_clock
from tests.hub.test_booking_world import Api, new_token, patient
from tests.polling import until

# Hélène Dupont (née Martin), born 2 March 1948 in Paris: this NIR's key is 73.
NIR = "248037505612373"
INS = {
    "birth_name": "Martin",
    "first_names": "Hélène Marie",
    "birth_place": "75056",
    "ins_number": "2 48 03 75 056 123 73",
    "gp_name": "Dr Claire Petit",
    "gp_rpps": "10003583837",
    "gp_mssante": "claire.petit@medecin.mssante.fr",
}


@pytest.fixture
async def platform(hub: Hub) -> AsyncIterator[Api]:
    api = Api(str(hub.url), await new_token(hub))
    try:
        yield api
    finally:
        await api.close()


async def first_free_start(platform: Api, site: str = "NAN231") -> datetime:
    _status, day = await platform.get(f"/api/v1/sites/{site}/slots")
    free = [s for s in day["slots"] if not s["full"]]
    if not free:  # late in the evening: tomorrow's first slot
        tomorrow = (datetime.fromisoformat(day["date"]) + timedelta(days=1)).date()
        _status, day = await platform.get(f"/api/v1/sites/{site}/slots?date={tomorrow}")
        free = [s for s in day["slots"] if not s["full"]]
    return datetime.fromisoformat(free[0]["start"])


async def nothing_booked(hub: Hub) -> bool:
    async with hub.db.read() as s:
        booked = await s.scalar(select(func.count()).select_from(Booking))
        changes = await s.scalar(select(func.count()).select_from(BookingChange))
    return booked == 0 and changes == 0


def test_the_rpps_of_the_tests_is_valid() -> None:
    assert GeneralPractitioner(name="x", rpps=INS["gp_rpps"]).rpps == INS["gp_rpps"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"ins_number": "248037505612312"},
            "ins_number",
            "Clé du NIR incorrecte : attendu 73, reçu 12",
        ),
        ({"ins_number": "24803750561"}, "ins_number", "Le numéro INS a 15 caractères"),
        (
            {"ins_number": NIR, "sex": "M"},
            "ins_number",
            "Le numéro INS indique le sexe féminin, la fiche le sexe masculin",
        ),
        (
            {"ins_number": NIR, "birth_date": "1948-04-02"},
            "ins_number",
            "Le numéro INS indique le mois de naissance 03, la date de naissance le mois 04",
        ),
        ({"birth_place": "7505"}, "birth_place", "Code du lieu de naissance invalide"),
        ({"birth_place": "2C004"}, "birth_place", "Code du lieu de naissance invalide"),
        ({"birth_date": "2099-01-01"}, "birth_date", "La date de naissance ne peut pas être"),
        ({"gp_rpps": "10003583838"}, "gp_rpps", "Numéro RPPS invalide"),
        ({"gp_mssante": "pas-une-adresse"}, "gp_mssante", "Adresse e-mail invalide"),
        (
            {"gp_name": "", "gp_rpps": None, "gp_mssante": "a@b.mssante.fr"},
            "gp_name",
            "Le nom du médecin traitant est obligatoire",
        ),
        ({"ins_kind": "SSN"}, "ins_kind", "NIR ou NIA"),
    ],
)
async def test_a_wrong_trait_is_refused_on_its_field(
    hub: Hub, platform: Api, fields: dict[str, Any], field: str, message: str
) -> None:
    start = await first_free_start(platform)
    body = patient(start, **{**INS, **fields})
    status, answer = await platform.post("/api/v1/bookings", body)
    assert status == 422, answer
    assert answer["error"] == "Le rendez-vous n'est pas pris : corrigez les champs signalés."
    problems = {p["field"]: p["message"] for p in answer["problems"]}
    assert list(problems) == [field] and problems[field].startswith(message), problems
    assert await nothing_booked(hub)


async def test_blank_traits_are_not_given(hub: Hub, platform: Api) -> None:
    blank = dict.fromkeys(INS, "")
    status, booking = await platform.post(
        "/api/v1/bookings", patient(await first_free_start(platform), **blank)
    )
    assert status == 201, booking
    assert booking["identity"] is None and booking["general_practitioner"] is None


async def test_the_traits_go_from_the_booking_to_the_cabin_and_the_record(
    hub: Hub, make_cabin: MakeCabin, platform: Api
) -> None:
    nangis = await make_cabin("nangis-01", "NAN231")
    assert nangis.ctx is not None
    start = await first_free_start(platform)
    status, booking = await platform.post("/api/v1/bookings", patient(start, **INS))
    assert status == 201, booking
    assert booking["identity"] == {
        "birth_name": "Martin",
        "first_names": "Hélène Marie",
        "used_name": "Dupont",  # the name she goes by, and types at the cabin
        "birth_place": "75056",
        "ins_number": NIR,
        "ins_kind": "NIR",
    }
    assert booking["general_practitioner"] == {
        "name": "Dr Claire Petit",
        "rpps": "10003583837",
        "mssante": "claire.petit@medecin.mssante.fr",
    }
    assert (await platform.get(f"/api/v1/bookings/{booking['id']}"))[1] == booking
    expected = Patient(
        birth_name="Martin",
        first_names="Hélène Marie",
        used_name="Dupont",
        birth_date=datetime(1948, 3, 2).date(),
        sex="F",
        birth_place="75056",
        ins_number=NIR,
    )
    gp = GeneralPractitioner(
        name="Dr Claire Petit", rpps="10003583837", mssante="claire.petit@medecin.mssante.fr"
    )

    appointments = nangis.ctx.appointments
    await until(lambda: appointments.get(booking["id"]), what="the booking on the cabin")
    stored = appointments.get(booking["id"])
    assert stored is not None
    assert (stored.patient, stored.general_practitioner) == (expected, gp)

    # The patient checks in with the code and the name she goes by: the booking's
    # traits are offered to confirm, and name her for the record.
    fix_clock(nangis).fixed = start + timedelta(minutes=5)
    screen = Touchscreen(nangis)
    try:
        steps = checkin_requests(booking["code"], "Dupont", "Hélène", "1948-03-02")
        for path, body in steps[:3]:
            status, answer = await screen.post(path, body)
            assert status == 200, (path, answer)
        async with screen.http.get(screen.url + "/api/ui/checkin/details") as resp:
            prefill = await resp.json()
        assert prefill["from_booking"] is True
        assert (prefill["ins_number"], prefill["gp_name"]) == (NIR, "Dr Claire Petit")
        checkin: Any = nangis.ctx.components["checkin"]
        assert checkin.identity_for_record() == (expected, gp)
        for path, body in steps[3:]:
            status, answer = await screen.post(path, body)
            assert status == 200, (path, answer)
        assert checkin.identity_for_record() == (expected, gp)
    finally:
        await screen.close()
