"""The patient's and the referent's side: the real touchscreen app (kiosk.ui) under
Textual's Pilot, connected to the daemon process with its UI token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, Digits, Static

from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.screens.checkin import (
    CodeScreen,
    ConsentScreen,
    IdentityScreen,
)
from kiosk.ui.screens.consultation import WaitingScreen
from kiosk.ui.screens.referent import ChecklistScreen, ReferentPinScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from tests.e2e.world import REFERENT_PIN, STEP_S, Cabin
from tests.ui.pilot_helpers import (
    SIZE,
    consent_and_questionnaire,
    keypad,
    skip_details,
    touch,
    type_identity,
)
from tests.ui.pilot_helpers import on_screen as ui_on_screen
from tests.ui.pilot_helpers import until as ui_until

# The goodbye screen shows this long before the welcome screen comes back (a cabin waits
# longer: the patient reads it).
GOODBYE_S = 0.5


@asynccontextmanager
async def touchscreen(cabin: Cabin) -> AsyncIterator[tuple[KioskApp, Pilot[None]]]:
    client = DaemonClient(cabin.url, cabin.ui_token)
    app = KioskApp(client, goodbye_s=GOODBYE_S)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.connected, "the touchscreen connects")
            yield app, pilot
    finally:
        await client.close()


async def until(pilot: Pilot[None], predicate: Callable[[], bool], what: str) -> None:
    await ui_until(pilot, predicate, STEP_S, what)


async def on_screen(pilot: Pilot[None], kind: type) -> None:
    await ui_on_screen(pilot, kind, STEP_S)


def measure_shown(app: KioskApp) -> str:
    """The big value of the consultation screen ("128/82", "97")."""
    found = app.screen.query("#measure-value")
    return str(found.first(Digits).value) if found else ""


async def check_in(
    pilot: Pilot[None], code: str, family: str, given: str, birth_ddmmyyyy: str
) -> None:
    """A patient with an appointment checks in, as a finger would."""
    await on_screen(pilot, WelcomeScreen)
    await until(pilot, lambda: bool(pilot.app.screen.query("#start")), "offers to start")
    await touch(pilot, "#start")
    await on_screen(pilot, CodeScreen)
    await keypad(pilot, code)
    await touch(pilot, "#next")
    await on_screen(pilot, IdentityScreen)
    await type_identity(pilot, family, given, birth_ddmmyyyy)
    await skip_details(pilot, STEP_S)
    await on_screen(pilot, ConsentScreen)
    await consent_and_questionnaire(pilot, daily_treatment=False)
    await on_screen(pilot, WaitingScreen)


async def referent_disinfects(pilot: Pilot[None]) -> list[str]:
    """The referent logs in with the PIN and runs the checklist; the step ids shown."""
    app = pilot.app
    await until(pilot, lambda: bool(app.screen.query("#referent")), "offers the referent")
    await touch(pilot, "#referent")
    await on_screen(pilot, ReferentPinScreen)
    await keypad(pilot, REFERENT_PIN)
    await touch(pilot, "#next")
    await on_screen(pilot, ChecklistScreen)
    await until(pilot, lambda: bool(app.screen.query(".step-start")), "shows the steps")
    steps = [str(b.name) for b in app.screen.query(".step-start").results(Button)]
    for step in steps:
        await touch(pilot, f"#start-{step}")
        await until(pilot, _shows(app, f"#confirm-{step}"), f"{step} started")
    for step in steps:
        # A disinfectant's contact time runs before the step can be confirmed.
        await until(pilot, _status_has(app, step, "Prêt à valider"), f"{step} ready")
        await touch(pilot, f"#confirm-{step}")
        await until(pilot, _status_has(app, step, "Fait"), f"{step} confirmed")
    await until(pilot, lambda: not app.screen.query_one("#finish", Button).disabled, "finish")
    await touch(pilot, "#finish")
    await on_screen(pilot, WelcomeScreen)
    return steps


def _shows(app: App[None], selector: str) -> Callable[[], bool]:
    return lambda: bool(app.screen.query(selector))


def _status_has(app: App[None], step: str, text: str) -> Callable[[], bool]:
    def check() -> bool:
        found = app.screen.query(f"#status-{step}")
        return bool(found) and text in str(found.first(Static).content)

    return check
