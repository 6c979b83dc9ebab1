"""Every path of the patient's touchscreen, against a real daemon in this process."""

from __future__ import annotations

from kiosk.events import ChatMessage, MeasurementTaken, PatientInstruction, PrintJobUpdated
from kiosk.lifecycle import State
from kiosk.ui.screens.checkin import CodeScreen, ConsentScreen, IdentityScreen, QuestionnaireScreen
from kiosk.ui.screens.consultation import (
    CheckoutScreen,
    ConsultationScreen,
    GoodbyeScreen,
    WaitingScreen,
)
from kiosk.ui.screens.welcome import WelcomeScreen
from tests.ui.conftest import StartCabin
from tests.ui.pilot_helpers import (
    keyboard,
    keypad,
    on_screen,
    screen_text,
    text_of,
    touch,
    touchscreen,
    until,
)


async def test_normal_consultation(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    cabin.add_appointment()
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, WelcomeScreen)
        assert "Cabine de test" in screen_text(app)
        await touch(pilot, "#start")
        await on_screen(pilot, CodeScreen)
        assert cabin.ctx.lifecycle.state is State.CHECK_IN
        await keypad(pilot, "123456")
        await touch(pilot, "#next")
        await on_screen(pilot, IdentityScreen)
        await keyboard(pilot, "DUPONT")
        await touch(pilot, "#next")
        await keyboard(pilot, "HÉLÈNE")
        await touch(pilot, "#next")
        await keypad(pilot, "02031948")
        await touch(pilot, "#next")
        await on_screen(pilot, ConsentScreen)
        await touch(pilot, "#agree-teleconsultation")
        await touch(pilot, "#agree-data_processing")
        await touch(pilot, "#next")
        await on_screen(pilot, QuestionnaireScreen)
        await touch(pilot, "#q-reason-fever_cough")
        await touch(pilot, "#q-allergies-no")
        await touch(pilot, "#q-treatments-yes")
        await touch(pilot, "#q-pregnancy-not_applicable")
        await touch(pilot, "#next")
        await on_screen(pilot, WaitingScreen)
        assert cabin.ctx.lifecycle.state is State.WAITING
        patient = cabin.ctx.components["checkin"].current_patient()  # type: ignore[attr-defined]
        assert patient["given_name"] == "HÉLÈNE" and patient["reason"] == "fever_cough"

        # The doctor's side.
        cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.bus.publish(PatientInstruction(text="Mettez le brassard sur le bras gauche"))
        await until(pilot, lambda: "brassard" in text_of(app, "#instruction"))
        cabin.ctx.bus.publish(MeasurementTaken(instrument="tensio", measurement=_bp()))
        await until(pilot, lambda: "Tension" in text_of(app, "#measure-caption"))
        cabin.ctx.bus.publish(ChatMessage(sender="doctor", text="Bonjour"))
        await until(pilot, lambda: "Bonjour" in text_of(app, "#chat"))
        seen = cabin.ctx.bus.subscribe(ChatMessage)
        await touch(pilot, "#quick-0")
        message = await seen.get()
        seen.close()
        assert (message.sender, message.text) == ("patient", "Je ne vous entends pas")

        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        cabin.ctx.bus.publish(
            PrintJobUpdated(document_id="rx1", document="prescription", state="completed")
        )
        await until(pilot, lambda: "imprimée" in text_of(app, "#print-status"))
        await touch(pilot, "#leave")
        await on_screen(pilot, GoodbyeScreen)
        assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION
        assert cabin.ctx.components["checkin"].current_patient() is None  # type: ignore[attr-defined]


def _bp() -> object:
    from decimal import Decimal

    from devices.measurement import Measurement, Observation

    return Measurement(
        kind="blood_pressure",
        observations=(
            Observation("8480-6", "Systolic blood pressure", Decimal(128), "mm[Hg]"),
            Observation("8462-4", "Diastolic blood pressure", Decimal(82), "mm[Hg]"),
        ),
    )
