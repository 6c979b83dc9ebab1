"""The optional details screen of check-in, on the touchscreen against the real daemon:
a walk-in patient types their sex, social security number and GP; a wrong key comes back
on the number's field with its exact reason (in French), nothing kept; the right one goes
on to the consent. A booked patient confirms what the booking carried in one touch. A
patient who skips gives nothing. (The checks themselves: tests/ui/test_checkin_ins.py.)"""

from __future__ import annotations

from kiosk.ui.screens.checkin import CodeScreen, ConsentScreen, IdentityScreen
from kiosk.ui.screens.details import DetailsScreen, grouped_ins
from tests.ui.conftest import StartCabin
from tests.ui.pilot_helpers import (
    keyboard,
    keypad,
    on_screen,
    screen_text,
    skip_details,
    text_of,
    touch,
    touchscreen,
    type_identity,
    until,
)
from tests.ui.test_checkin_ins import BOOKED, GP, NIR, NIR_WRONG_KEY, record_of


def test_the_number_is_grouped_as_on_the_card() -> None:
    assert grouped_ins(NIR) == "2 48 03 75 056 123 73"
    assert grouped_ins("2A") == "2 A"
    assert grouped_ins("") == ""


async def test_walk_in_types_a_wrong_key_then_the_right_one(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#start")
        await on_screen(pilot, CodeScreen)
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "DUPONT", "HÉLÈNE", "02031948")
        await on_screen(pilot, DetailsScreen)
        assert "médecin traitant" in screen_text(app)
        await touch(pilot, "#fill")
        await touch(pilot, "#sex-F")
        await keypad(pilot, NIR_WRONG_KEY)
        assert text_of(app, "#typed").startswith("2 48 03 75 056 123 12")
        await touch(pilot, "#next")
        await touch(pilot, "#next")  # no birth place: left empty
        await keyboard(pilot, "ROUX")
        await touch(pilot, "#next")  # Envoyer
        # Back on the number, with the exact reason; nothing kept.
        reason = "Clé du NIR incorrecte : attendu 73, reçu 12"
        await until(pilot, lambda: reason in text_of(app, "#error"))
        screen = app.screen
        assert isinstance(screen, DetailsScreen) and screen.phase == "ins_number"
        checkin = cabin.ctx.components["checkin"]
        assert checkin.patient.ins is None  # type: ignore[attr-defined]
        await touch(pilot, "#key-back")
        await touch(pilot, "#key-back")
        await keypad(pilot, "73")
        for _ in range(3):  # the birth place, the GP (kept), then send
            await touch(pilot, "#next")
        await on_screen(pilot, ConsentScreen)
        patient = checkin.patient  # type: ignore[attr-defined]
        assert patient.ins.ins_number == NIR and patient.ins.sex == "F"
        assert patient.gp.name == "ROUX" and patient.gp.mssante is None


async def test_booked_patient_confirms_in_one_touch(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    cabin.add_appointment(sex="F", patient=BOOKED, general_practitioner=GP)
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#start")
        await on_screen(pilot, CodeScreen)
        await keypad(pilot, "123456")
        await touch(pilot, "#next")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "DUPONT", "HÉLÈNE", "02031948")
        await on_screen(pilot, DetailsScreen)
        await until(pilot, lambda: "2 48 03 75 056 123 73" in screen_text(app))
        assert "Dr Claire Petit" in screen_text(app)
        await touch(pilot, "#confirm")
        await on_screen(pilot, ConsentScreen)
        # The booking's names and its GP's secure address are kept.
        assert record_of(cabin) == (BOOKED, GP)


async def test_a_patient_who_skips_gives_nothing(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    async with touchscreen(cabin) as (_app, pilot):
        await touch(pilot, "#start")
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "DURAND", "PAUL", "15061960")
        await skip_details(pilot)
        await on_screen(pilot, ConsentScreen)
        patient = cabin.ctx.components["checkin"].patient  # type: ignore[attr-defined]
        assert patient.ins is None and patient.gp is None and not patient.details_given
