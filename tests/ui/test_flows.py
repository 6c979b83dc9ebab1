"""Every path of the patient's touchscreen, against a real daemon in this process."""

from __future__ import annotations

from datetime import date

from textual.widgets import Button

from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    MeasurementTaken,
    PatientInstruction,
    PrintJobUpdated,
)
from kiosk.lifecycle import State
from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.screens.checkin import (
    CodeScreen,
    ConsentScreen,
    IdentityScreen,
    RefusedScreen,
    RepresentativeScreen,
)
from kiosk.ui.screens.consultation import (
    CheckoutScreen,
    ConsultationScreen,
    GoodbyeScreen,
    WaitingScreen,
)
from kiosk.ui.screens.referent import ChecklistScreen, ReferentPinScreen
from kiosk.ui.screens.technician import TechnicianPinScreen, TechnicianScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from tests.ui.conftest import TECH_PIN, StartCabin
from tests.ui.pilot_helpers import (
    SIZE,
    consent_and_questionnaire,
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
        await type_identity(pilot, "DUPONT", "HÉLÈNE", "02031948")
        await skip_details(pilot)
        await on_screen(pilot, ConsentScreen)
        await consent_and_questionnaire(pilot, daily_treatment=True)
        await on_screen(pilot, WaitingScreen)
        assert cabin.ctx.lifecycle.state is State.WAITING
        patient = cabin.ctx.components["checkin"].current_patient()  # type: ignore[attr-defined]
        assert patient["given_name"] == "HÉLÈNE" and patient["reason"] == "Fièvre, toux, rhume"
        assert patient["answers"]["Traitement quotidien"] == "Oui"

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


async def test_wrong_code(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    cabin.add_appointment()
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#start")
        await on_screen(pilot, CodeScreen)
        await keypad(pilot, "12")
        await touch(pilot, "#next")
        assert "6 chiffres" in text_of(app, "#error")
        await keypad(pilot, "9999")
        await touch(pilot, "#next")
        await until(pilot, lambda: "Ce code est inconnu" in text_of(app, "#error"))
        assert isinstance(app.screen, CodeScreen)
        assert text_of(app, "#typed") == "_ _ _ _ _ _"
        assert cabin.ctx.lifecycle.state is State.CHECK_IN
        # The language switch keeps what was typed and shows English.
        await keypad(pilot, "123")
        await touch(pilot, "#toggle-language")
        await until(pilot, lambda: "6-digit code" in screen_text(app))
        assert text_of(app, "#typed") == "1 2 3 _ _ _"
        await touch(pilot, "#toggle-language")
        await until(pilot, lambda: "6 chiffres" in screen_text(app))


async def test_minor_without_representative(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#start")
        await on_screen(pilot, CodeScreen)
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "MARTIN", "LÉA", f"0101{date.today().year - 16}")
        await on_screen(pilot, RepresentativeScreen)
        await touch(pilot, "#absent")
        await on_screen(pilot, RefusedScreen)
        assert "parent" in screen_text(app)
        await touch(pilot, "#cancel")
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: "nettoyage" in screen_text(app))
        assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION
        assert "MARTIN" not in screen_text(app)


async def test_minor_with_representative_goes_on(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    async with touchscreen(cabin) as (_app, pilot):
        await touch(pilot, "#start")
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "MARTIN", "LÉA", f"0101{date.today().year - 16}")
        await on_screen(pilot, RepresentativeScreen)
        await touch(pilot, "#present")
        await skip_details(pilot)
        await on_screen(pilot, ConsentScreen)
        patient = cabin.ctx.components["checkin"].current_patient()  # type: ignore[attr-defined]
        assert patient["representative_present"] is True


async def test_refused_consent(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#start")
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await type_identity(pilot, "DURAND", "PAUL", "15061960")
        await skip_details(pilot)
        await on_screen(pilot, ConsentScreen)
        await touch(pilot, "#agree-teleconsultation")
        await touch(pilot, "#next")  # one agreement is not enough
        assert "Je refuse" in text_of(app, "#error")
        await touch(pilot, "#refuse")
        await on_screen(pilot, RefusedScreen)
        assert "deux accords" in screen_text(app)
        await touch(pilot, "#cancel")
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION)


async def test_inactivity_mid_check_in_wipes_and_returns_to_welcome(
    start_cabin: StartCabin,
) -> None:
    cabin = await start_cabin(walk_in=True)
    # The app's own clock, moved by the test: typing takes as long as it takes on a loaded
    # machine (a real 1.5 s timeout once fired between two taps).
    clock = [0.0]
    async with touchscreen(cabin, inactivity_s=1.5, monotonic=lambda: clock[0]) as (app, pilot):
        await touch(pilot, "#start")
        await touch(pilot, "#walk-in")
        await on_screen(pilot, IdentityScreen)
        await keyboard(pilot, "SECRET")
        await touch(pilot, "#toggle-language")
        await touch(pilot, "#toggle-large")
        clock[0] += 1.4  # not yet
        await app._check_inactivity()  # what the app's 0.2 s timer runs
        await pilot.pause()
        assert isinstance(app.screen, IdentityScreen)
        clock[0] += 0.2  # the patient has walked away
        await on_screen(pilot, WelcomeScreen)
        # The next person starts afresh: French, normal text.
        await until(pilot, lambda: "nettoyage" in screen_text(app))
        assert not app.screen.has_class("large")
        assert "SECRET" not in screen_text(app)
        assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION
        assert cabin.ctx.components["checkin"].current_patient() is None  # type: ignore[attr-defined]
        # The welcome screen itself never times out into anything else.
        assert not WelcomeScreen.INACTIVITY


async def test_printer_failure_at_checkout(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    clock = [0.0]  # the app's clock, moved by the test (no real timeout on a slow machine)
    async with touchscreen(cabin, inactivity_s=0.3, monotonic=lambda: clock[0]) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.bus.publish(CallStateChanged(state="reconnecting"))
        await until(pilot, lambda: "se reconnecte" in text_of(app, "#call-note"))
        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)  # the patient is reading: the clock stands
        cabin.ctx.bus.publish(
            PrintJobUpdated(
                document_id="rx-1",
                document="prescription",
                state="failed",
                message_patient="L'imprimante n'a plus de papier.",
            )
        )
        await until(pilot, lambda: "échoué" in text_of(app, "#print-status"))
        assert "plus de papier" in text_of(app, "#print-status")
        await touch(pilot, "#reprint")
        # Whatever the printer component answers, the patient reads plain words.
        await pilot.pause()
        assert "Traceback" not in screen_text(app)
        cabin.ctx.bus.publish(
            PrintJobUpdated(document_id="rx-1", document="prescription", state="completed")
        )
        await until(pilot, lambda: "imprimée" in text_of(app, "#print-status"))
        # Nobody touches the screen any more: the patient has gone.
        clock[0] += 3600
        await on_screen(pilot, GoodbyeScreen)
        assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION


async def test_locked_for_cleaning(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.post("/api/ui/checkin/start")
    await cabin.post("/api/ui/checkin/abandon")
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: "nettoyage" in screen_text(app))
        assert not app.screen.query("#start")
        assert app.screen.query("#referent")
        status, body = await cabin.post("/api/ui/checkin/start")
        assert (status, body["code"]) == (409, "locked")


async def test_closed_hours(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(always_open=False, weekly='monday = ["09:00-09:01"]')
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: "La cabine est fermée" in screen_text(app))
        assert "Prochaine ouverture : lundi" in screen_text(app)
        assert not app.screen.query("#start")


async def test_technician_screen(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#technician")
        await on_screen(pilot, TechnicianPinScreen)
        await keypad(pilot, "1111")
        await touch(pilot, "#next")
        await until(pilot, lambda: "Essais restants : 4" in text_of(app, "#error"))
        await keypad(pilot, TECH_PIN)
        await touch(pilot, "#next")
        await on_screen(pilot, TechnicianScreen)
        await until(pilot, lambda: "État de la cabine : idle" in screen_text(app))
        await touch(pilot, "#back")
        await on_screen(pilot, WelcomeScreen)


def _hygiene_toml() -> str:
    from hygiene.auth import hash_pin

    return f"""
[[hygiene.steps]]
id = "siege"
label_fr = "Désinfecter le siège"
label_en = "Disinfect the seat"
contact_time_s = 1

[[hygiene.steps]]
id = "ecran"
label_fr = "Essuyer l'écran tactile"
label_en = "Wipe the touchscreen"
consumables = ["lingette"]

[[hygiene.referents]]
id = "marie"
name = "Marie L."
pin_hash = "{hash_pin("13579")}"
"""


async def test_referent_flow(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(extra=_hygiene_toml())
    await cabin.post("/api/ui/checkin/start")
    await cabin.post("/api/ui/checkin/abandon")
    async with touchscreen(cabin) as (app, pilot):
        await until(pilot, lambda: "nettoyage" in screen_text(app))
        await touch(pilot, "#referent")
        await on_screen(pilot, ReferentPinScreen)
        await keypad(pilot, "0000")
        await touch(pilot, "#next")
        await until(pilot, lambda: "Essais restants : 4" in text_of(app, "#error"))
        await keypad(pilot, "13579")
        await touch(pilot, "#next")
        await on_screen(pilot, ChecklistScreen)
        await until(pilot, lambda: bool(app.screen.query("#start-siege")))
        assert cabin.ctx.lifecycle.state is State.CLEANING
        assert "Marie L." in screen_text(app) and "À remplacer : lingette" in screen_text(app)
        assert app.screen.query_one("#finish", Button).disabled
        await touch(pilot, "#start-siege")
        await until(pilot, lambda: bool(app.screen.query("#confirm-siege")))
        await touch(pilot, "#start-ecran")
        await until(pilot, lambda: bool(app.screen.query("#confirm-ecran")))
        await touch(pilot, "#confirm-ecran")
        await until(pilot, lambda: "Fait" in text_of(app, "#status-ecran"))
        # The seat's disinfectant needs its contact time: confirmed once it has elapsed.
        await until(pilot, lambda: "Prêt à valider" in text_of(app, "#status-siege"))
        await touch(pilot, "#confirm-siege")
        await until(pilot, lambda: not app.screen.query_one("#finish", Button).disabled)
        await touch(pilot, "#finish")
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: cabin.ctx.lifecycle.state is State.IDLE)
        await until(pilot, lambda: bool(app.screen.query("#start")))


async def test_referent_contact_time_enforced(start_cabin: StartCabin) -> None:
    toml = _hygiene_toml().replace("contact_time_s = 1", "contact_time_s = 120")
    cabin = await start_cabin(extra=toml)
    await cabin.post("/api/ui/checkin/start")
    await cabin.post("/api/ui/checkin/abandon")
    async with touchscreen(cabin) as (app, pilot):
        await touch(pilot, "#referent")
        await keypad(pilot, "13579")
        await touch(pilot, "#next")
        await on_screen(pilot, ChecklistScreen)
        await until(pilot, lambda: bool(app.screen.query("#start-siege")))
        await touch(pilot, "#start-siege")
        await until(pilot, lambda: "Attendre 2:0" in text_of(app, "#status-siege"))
        await touch(pilot, "#confirm-siege")
        await until(pilot, lambda: "temps de contact" in text_of(app, "#error"))
        await touch(pilot, "#problem-ecran")
        await touch(pilot, "#anomaly-no_consumable")
        # A step that cannot be done puts the cabin out of service until a technician.
        await on_screen(pilot, WelcomeScreen)
        await until(pilot, lambda: "hors service" in screen_text(app))
        assert cabin.ctx.lifecycle.state is State.OUT_OF_SERVICE
        # The technician puts it back in service; the session still needs its cleaning.
        await touch(pilot, "#technician")
        await keypad(pilot, TECH_PIN)
        await touch(pilot, "#next")
        await on_screen(pilot, TechnicianScreen)
        await until(pilot, lambda: bool(app.screen.query("#clear")))
        await touch(pilot, "#clear")
        await until(pilot, lambda: cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION)


async def test_chat_keyboard_larger_text_and_goodbye(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    await cabin.checked_in()
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    # The goodbye screen must stay long enough for the test to see it: with 0.3 s it came
    # and went between two polls once on a loaded machine.
    async with touchscreen(cabin, goodbye_s=2.0) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        await touch(pilot, "#toggle-large")
        assert app.screen.has_class("large")
        await touch(pilot, "#chat-open")
        await until(pilot, lambda: bool(app.screen.query("#typed")))
        seen = cabin.ctx.bus.subscribe(ChatMessage)
        await keyboard(pilot, "ÇA VA")
        await touch(pilot, "#chat-send")
        message = await seen.get()
        seen.close()
        assert (message.sender, message.text) == ("patient", "ÇA VA")
        await until(pilot, lambda: not app.screen.query("#typed"))
        cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
        await on_screen(pilot, CheckoutScreen)
        assert app.screen.has_class("large")  # kept from screen to screen
        await touch(pilot, "#leave")
        await on_screen(pilot, GoodbyeScreen)
        await on_screen(pilot, WelcomeScreen)  # after goodbye_s
        await until(pilot, lambda: "nettoyage" in screen_text(app))


async def test_daemon_restart_mid_check_in(start_cabin: StartCabin) -> None:
    """The daemon dies during check-in: the screen says so, then follows the restarted
    daemon (new token) to the cleaning screen; nothing typed survives."""
    cabin = await start_cabin(walk_in=True)
    port = int(cabin.url.rsplit(":", 1)[1])
    client = DaemonClient.from_state_dir(cabin.url, cabin.ctx.settings.storage.state_dir)
    app = KioskApp(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.connected)
            await touch(pilot, "#start")
            await touch(pilot, "#walk-in")
            await on_screen(pilot, IdentityScreen)
            await keyboard(pilot, "DUPONT")
            await cabin.daemon.stop()
            await until(pilot, lambda: "ne répond pas" in text_of(app, "#error"))
            await start_cabin(walk_in=True, port=port)
            await on_screen(pilot, WelcomeScreen)
            await until(pilot, lambda: "nettoyage" in screen_text(app))
            assert "DUPONT" not in screen_text(app)
            assert text_of(app, "#error") == ""
    finally:
        await client.close()


async def test_measurement_in_progress_and_device_flags(start_cabin: StartCabin) -> None:
    from decimal import Decimal

    from devices.measurement import Measurement, Observation
    from kiosk.events import InstrumentStateChanged

    cabin = await start_cabin()
    await cabin.checked_in()
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.bus.publish(
            InstrumentStateChanged(instrument="tensio", kind="blood_pressure", state="measuring")
        )
        await until(pilot, lambda: "ne bougez pas" in text_of(app, "#measure-caption"))
        pulse = Observation("8867-4", "Pulse rate", Decimal(96), "/min")
        cabin.ctx.bus.publish(
            MeasurementTaken(
                instrument="oxy",
                measurement=Measurement("pulse", (pulse,), status=("irregular_pulse",)),
            )
        )
        await until(pilot, lambda: "Pouls irrégulier" in text_of(app, "#measure-caption"))
        assert app.screen.measurement is not None  # type: ignore[attr-defined]
        assert app.screen.measurement[0] == "96"  # type: ignore[attr-defined]
