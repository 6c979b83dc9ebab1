"""Every screen in French and English, from a fixed cabin state (SVG snapshots).

Update after a deliberate change: pytest tests/ui/test_snapshots.py --snapshot-update"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from kiosk.ui import i18n
from kiosk.ui.app import KioskApp
from kiosk.ui.screens import checkin, consultation, referent, technician, welcome
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.details import DetailsScreen
from tests.ui.fake_cabin import FakeCabin
from tests.ui.pilot_helpers import SIZE

MEASUREMENT = {
    "type": "MeasurementTaken",
    "instrument": "tensiometre",
    "measurement": {
        "kind": "blood_pressure",
        "observations": [
            {"code": "8480-6", "display": "Systolic", "value": 128, "unit": "mm[Hg]"},
            {"code": "8462-4", "display": "Diastolic", "value": 82, "unit": "mm[Hg]"},
        ],
    },
}


def _consultation() -> KioskScreen:
    return consultation.ConsultationScreen()


def _feed_consultation(screen: KioskScreen) -> None:
    for event in (
        {"type": "PatientInstruction", "text": "Mettez le brassard sur votre bras gauche."},
        MEASUREMENT,
        {"type": "ChatMessage", "sender": "doctor", "text": "Bonjour, je suis le Dr Martin."},
        {"type": "ChatMessage", "sender": "patient", "text": "Je ne vous entends pas"},
        {"type": "CallStateChanged", "state": "reconnecting"},
    ):
        screen.on_cabin_event(event)


def _feed_temperature(screen: KioskScreen) -> None:
    """A decimal figure: 37,8 in French, 37.8 in English."""
    screen.on_cabin_event(
        {
            "type": "MeasurementTaken",
            "instrument": "thermometre",
            "measurement": {
                "kind": "temperature",
                "observations": [
                    {"code": "8310-5", "display": "Body temperature", "value": 37.8, "unit": "Cel"}
                ],
            },
        }
    )


def _feed_checkout(screen: KioskScreen) -> None:
    screen.on_cabin_event(
        {
            "type": "PrintJobUpdated",
            "document_id": "rx-1",
            "document": "prescription",
            "state": "failed",
            "message_patient": "L'imprimante n'a plus de papier.",
        }
    )


def _identity_typed() -> KioskScreen:
    screen = checkin.IdentityScreen()
    screen.values["family_name"] = "DUPONT"
    return screen


def _birth_date() -> KioskScreen:
    screen = checkin.IdentityScreen()
    screen.values.update(family_name="DUPONT", given_name="HÉLÈNE", birth_date="0203")
    screen.field = 2
    return screen


def _ins_typed() -> KioskScreen:
    screen = DetailsScreen()
    screen.phase = "ins_number"
    screen.values["ins_number"] = "2480375"
    return screen


def _code_typed() -> KioskScreen:
    screen = checkin.CodeScreen()
    screen.code = "123"
    return screen


def _questionnaire() -> KioskScreen:
    screen = checkin.QuestionnaireScreen()
    screen.answers = {"reason": "fever_cough", "allergies": "no"}
    return screen


Feed = Callable[[KioskScreen], None] | None
SCREENS: dict[str, tuple[str, Callable[[], KioskScreen], Feed]] = {
    "welcome": ("idle", welcome.WelcomeScreen, None),
    "welcome_cleaning": ("awaiting_disinfection", welcome.WelcomeScreen, None),
    "welcome_closed": ("closed", welcome.WelcomeScreen, None),
    "code": ("check_in", _code_typed, None),
    "identity": ("check_in", _identity_typed, None),
    "birth_date": ("check_in", _birth_date, None),
    "representative": ("check_in", lambda: checkin.RepresentativeScreen({}), None),
    "refused_consent": ("check_in", lambda: checkin.RefusedScreen("consent_refused"), None),
    "details_booked": ("check_in", DetailsScreen, None),
    "details_ins": ("check_in", _ins_typed, None),
    "consent": ("check_in", checkin.ConsentScreen, None),
    "questionnaire": ("check_in", _questionnaire, None),
    "waiting": ("waiting", consultation.WaitingScreen, None),
    "consultation": ("in_consultation", _consultation, _feed_consultation),
    "consultation_temperature": ("in_consultation", _consultation, _feed_temperature),
    "checkout_failed": ("checkout", consultation.CheckoutScreen, _feed_checkout),
    "goodbye": ("awaiting_disinfection", consultation.GoodbyeScreen, None),
    "referent_pin": ("awaiting_disinfection", referent.ReferentPinScreen, None),
    "checklist": ("cleaning", referent.ChecklistScreen, None),
    "technician_pin": ("idle", technician.TechnicianPinScreen, None),
    "technician": ("idle", lambda: technician.TechnicianScreen("2468"), None),
    "welcome_out_of_service": ("out_of_service", welcome.WelcomeScreen, None),
    "refused_too_young": ("check_in", lambda: checkin.RefusedScreen("too_young"), None),
}


def build(name: str, language: str) -> tuple[KioskApp, Callable[[Pilot[Any]], Any]]:
    state, make, feed = SCREENS[name]
    app = KioskApp(FakeCabin(state), listen=False, monotonic=lambda: 1000.0, goodbye_s=3600)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.cabin = await app.api.get("/api/ui/state")
        screen = make()
        await app.show(screen)
        await pilot.pause()
        # After show(): the welcome screen resets the language for each new patient.
        i18n.set_language(language)
        await screen.recompose()
        await pilot.pause()
        if feed is not None:
            feed(screen)
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, language: str, snap_compare: Any) -> None:
    app, run_before = build(name, language)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize(("name", "language"), [("identity", "fr"), ("questionnaire", "en")])
def test_larger_text(name: str, language: str, snap_compare: Any) -> None:
    app, run_before = build(name, language)

    async def larger(pilot: Pilot[Any]) -> None:
        await run_before(pilot)
        app.large_text = True
        app.screen.set_class(True, "large")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=larger)


def test_waiting_time_shown_in_minutes() -> None:
    clock = [1000.0]
    app = KioskApp(FakeCabin("waiting"), listen=False, monotonic=lambda: clock[0])

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = consultation.WaitingScreen()
            await app.show(screen)
            await pilot.pause()
            assert "attendez depuis" not in str(screen.query_one("#waited").render())
            clock[0] += 185
            screen._tick()
            await pilot.pause()
            assert str(screen.query_one("#waited", Static).content) == "Vous attendez depuis 3 min."

    asyncio.run(run())
