"""Driving the touchscreen app with Textual's Pilot, the way a finger would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.screens.checkin import QuestionnaireScreen
from kiosk.ui.widgets import AZERTY_ROWS
from tests.ui.conftest import RunningCabin, wait_until

SIZE = (120, 45)


@asynccontextmanager
async def touchscreen(
    cabin: RunningCabin, **kwargs: Any
) -> AsyncIterator[tuple[KioskApp, Pilot[None]]]:
    client = DaemonClient(cabin.url, cabin.ctx.ui_token)
    app = KioskApp(client, **kwargs)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.connected)
            yield app, pilot
    finally:
        await client.close()


async def until(
    pilot: Pilot[None],
    predicate: Callable[[], bool],
    within_s: float = 5.0,
    what: str = "the condition",
) -> None:
    """Waits for ``predicate``; on failure, says ``what`` and shows the screen's text."""
    await pilot.pause()
    try:
        await wait_until(predicate, within_s)
    except AssertionError:
        raise AssertionError(
            f"touchscreen: {what}; screen {type(pilot.app.screen).__name__}:\n"
            + screen_text(pilot.app)  # type: ignore[arg-type]
        ) from None
    await pilot.pause()


async def on_screen(pilot: Pilot[None], kind: type, within_s: float = 5.0) -> None:
    await until(
        pilot, lambda: isinstance(pilot.app.screen, kind), within_s, f"shows {kind.__name__}"
    )


async def touch(pilot: Pilot[None], selector: str) -> None:
    await pilot.pause()
    assert await pilot.click(selector), f"could not touch {selector}"
    await pilot.pause()


async def keypad(pilot: Pilot[None], digits: str) -> None:
    for digit in digits:
        await touch(pilot, f"#key-{digit}")


async def keyboard(pilot: Pilot[None], text: str) -> None:
    flat = "".join(AZERTY_ROWS)
    for char in text:
        await touch(pilot, "#kb-space" if char == " " else f"#kb-{flat.index(char)}")


async def type_identity(pilot: Pilot[None], family: str, given: str, birth: str) -> None:
    """On the identity screen: family name, given name, then birth date as DDMMYYYY."""
    await keyboard(pilot, family)
    await touch(pilot, "#next")
    await keyboard(pilot, given)
    await touch(pilot, "#next")
    await keypad(pilot, birth)
    await touch(pilot, "#next")


async def skip_details(pilot: Pilot[None], within_s: float = 5.0) -> None:
    """The optional details (INS number, GP): skipped, as most walk-in patients do."""
    from kiosk.ui.screens.details import DetailsScreen

    await on_screen(pilot, DetailsScreen, within_s)
    await touch(pilot, "#skip")


async def consent_and_questionnaire(pilot: Pilot[None], *, daily_treatment: bool) -> None:
    """From the consent screen: both consents, then the questionnaire (fever and cough, no
    allergies, no pregnancy), sent."""
    await touch(pilot, "#agree-teleconsultation")
    await touch(pilot, "#agree-data_processing")
    await touch(pilot, "#next")
    await on_screen(pilot, QuestionnaireScreen)
    await touch(pilot, "#q-reason-fever_cough")
    await touch(pilot, "#q-allergies-no")
    await touch(pilot, "#q-treatments-yes" if daily_treatment else "#q-treatments-no")
    await touch(pilot, "#q-pregnancy-not_applicable")
    await touch(pilot, "#next")


def text_of(app: KioskApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def screen_text(app: KioskApp) -> str:
    return "\n".join(str(w.content) for w in app.screen.query(Static))
