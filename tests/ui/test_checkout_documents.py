"""The checkout screen tells the patient about the prescription printed during the call
(before that screen existed), or that there is none, from the daemon's document list."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from kiosk.events import PrintJobUpdated
from kiosk.lifecycle import State
from kiosk.ui.screens.consultation import CheckoutScreen, ConsultationScreen
from tests.ui.conftest import StartCabin, wait_until
from tests.ui.pilot_helpers import on_screen, text_of, touchscreen, until

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
