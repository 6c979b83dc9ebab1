"""A full day in one cabin, end to end, on every real component (issue 8).

The daemon runs as its own process (``kiosk run --config``), enrolled at the hub (a process
too), which pushes it the booking. The patient checks in on the real touchscreen app
(Textual Pilot); the doctor logs in at the hub, takes the patient from the waiting room
and joins in headless Chromium
with a fake camera; video flows both ways; the doctor asks for a blood pressure and the
simulated BLE monitor (bluezoo) indicates it; the serial oximeter (pty) gives an SpO2;
the doctor signs a prescription that prints through CUPS into cups-pdf; the doctor ends,
the patient leaves; the cabin is locked and refuses the next patient until the referent
has logged the disinfection with the checklist of the instruments used; then a second,
shorter consultation runs."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from devices.serialproto.readings import OximeterReading
from devices.sim.ble_peripheral import SimulatedBlePeripheral
from devices.sim.serial_sim import SerialSimulator
from kiosk.ui.screens.consultation import CheckoutScreen, ConsultationScreen, GoodbyeScreen
from kiosk.ui.screens.welcome import WelcomeScreen
from tests.e2e.doctor_page import (
    open_console,
    page_frames_advance,
    sign_prescription,
    take_patient,
)
from tests.e2e.hub_world import HubProcess, wait_until_online
from tests.e2e.touchscreen import (
    check_in,
    measure_shown,
    on_screen,
    referent_disinfects,
    touchscreen,
    until,
)
from tests.e2e.world import (
    DOCTOR_RPPS,
    Cabin,
    eventually,
    hygiene_verify,
    start_daemon,
    stop_daemon,
    write_config,
)
from tests.printer.cups_env import pdf_text, printed_copies
from tests.ui.pilot_helpers import screen_text, touch

MEDICATION = "Amoxicilline 1 g comprimé"


def prescription_numbers(state_dir: Path) -> list[str]:
    """The numbers of the prescriptions the daemon stored (read-only, beside it)."""
    db = state_dir / "cabin.sqlite3"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT number FROM print_documents WHERE kind = 'prescription' ORDER BY rowid"
        ).fetchall()
    finally:
        conn.close()
    return [str(r[0]) for r in rows]


def instrument(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in status["instruments"] if i["name"] == name)


async def test_a_full_day_in_one_cabin(
    *,
    tmp_path: Path,
    bluez: str,
    bp_monitor: SimulatedBlePeripheral,
    oximeter: SerialSimulator,
    browser: Any,
    hub_process: HubProcess,
) -> None:
    started = time.time()
    config = write_config(tmp_path, oximeter.link, hub_process.url)
    await hub_process.enrol("e2e-01", "NAN231", tmp_path / "state")
    daemon = await start_daemon(config, bluez)
    try:
        cabin = Cabin(daemon)
        await wait_until_online(hub_process, cabin.url)
        code = await hub_process.book("NAN231", "Dupont", "Hélène", "1948-03-02", "F")
        # The instruments connect: bleak on hci0 to the monitor, pyserial to the pty.
        await cabin.wait_status(
            lambda s: (
                instrument(s, "tensiometre")["state"] == "ready"
                and instrument(s, "oxymetre")["state"] == "ready"
            ),
            "both instruments ready",
        )
        async with touchscreen(cabin) as (app, pilot):
            await check_in(pilot, code, "DUPONT", "HÉLÈNE", "02031948")
            assert (await cabin.status())["state"] == "waiting"

            # The doctor logs in, sees the waiting patient, takes her, joins.
            page = await open_console(browser, hub_process.url)
            await take_patient(page, "e2e-01")
            assert "HÉLÈNE" in (await page.text_content("#patient") or "").upper()
            await page.click("#join")
            await on_screen(pilot, ConsultationScreen)
            # Video both ways: frames decoded in the page, and received by the cabin.
            await page_frames_advance(page)
            await cabin.wait_status(
                lambda s: (
                    (s["call"].get("received") or {}).get("video_frames", 0) > 10
                    and s["call"]["call_state"] == "connected"
                ),
                "the cabin receives the doctor's video",
            )

            # The doctor asks for a blood pressure: the patient is told to press START on
            # the monitor, which then indicates its measurement over BLE.
            await page.click("button.measure[data-instrument=tensiometre]")
            await until(pilot, lambda: "START" in screen_text(app), "the cuff instruction")
            # The cuff inflates: live pressure on both screens, then the result.
            assert bp_monitor.send_cuff_pressure(150), "the cabin is not subscribed"
            await page.wait_for_selector("#live-measurement:has-text('150')")
            await until(pilot, lambda: "ne bougez pas" in screen_text(app), "keep still")
            assert bp_monitor.send_blood_pressure(132, 84, 71)
            await page.wait_for_selector("#measurements tr:has-text('132 mmHg')")
            assert await page.text_content("#live-measurement") == ""
            await until(pilot, lambda: measure_shown(app) == "132/84", "the blood pressure")

            # Asked for an SpO2, the patient clips the serial oximeter on.
            assert "oxymètre" not in screen_text(app)
            await page.click("button.measure[data-instrument=oxymetre]")
            await until(pilot, lambda: "oxymètre" in screen_text(app), "the clip instruction")
            await oximeter.send_reading(OximeterReading(spo2=97, pulse=72))
            await page.wait_for_selector("#measurements tr:has-text('97 %')")
            await until(pilot, lambda: measure_shown(app) == "97", "the SpO2")

            # The prescription, signed in the console, prints through CUPS.
            assert await page.input_value("[data-path='patient.sex']") == "F"  # booked
            await sign_prescription(page, MEDICATION)
            await page.wait_for_selector("#print-jobs li[data-state=completed]")
            numbers = prescription_numbers(daemon.state_dir)
            assert len(numbers) == 1, numbers
            copies = await eventually(
                lambda: printed_copies(numbers[0], started), "the cups-pdf file"
            )
            assert len(copies) == 1
            text = pdf_text(copies[0])
            for expected in ("DUPONT", "HÉLÈNE", MEDICATION, DOCTOR_RPPS):
                assert expected.lower() in text.lower(), f"{expected!r} not in the PDF:\n{text}"
            assert "téléconsultation" in text.lower(), text

            # The doctor ends; the patient leaves.
            await page.click("#end")
            await on_screen(pilot, CheckoutScreen)
            await until(pilot, lambda: "imprimée" in screen_text(app), "printed, told")
            await touch(pilot, "#leave")
            await on_screen(pilot, GoodbyeScreen)
            status = await cabin.wait_status(
                lambda s: s["state"] == "awaiting_disinfection", "awaiting disinfection"
            )
            assert status["locked"] is True
            await page.wait_for_selector("#queue-panel:not([hidden])")  # the hub closed it
            assert "DUPONT" not in (await page.text_content("body") or "").upper()

            # The next patient is refused until the cabin is cleaned.
            code = await hub_process.book("NAN231", "Lefebvre", "Jeanne", "1960-05-10")
            refused, body = await cabin.ui("/api/ui/checkin/start")
            assert (refused, body.get("code")) == (409, "locked"), body
            await on_screen(pilot, WelcomeScreen)
            await until(pilot, lambda: "nettoyage" in screen_text(app), "the cleaning screen")
            assert not app.screen.query("#start")

            # The referent: checklist of what this patient used.
            steps = await referent_disinfects(pilot)
            assert {"siege", "ecran", "brassard", "oxymetre"} <= set(steps), steps
            assert not {"thermometre", "balance"} & set(steps), steps
            status = await cabin.wait_status(lambda s: s["state"] == "idle", "idle")
            assert status["locked"] is False

            # A second consultation: check-in, join, end.
            await check_in(pilot, code, "LEFEBVRE", "JEANNE", "10051960")
            await take_patient(page, "e2e-01")
            await page.click("#join")
            await on_screen(pilot, ConsultationScreen)
            await page_frames_advance(page)
            assert measure_shown(app) == "", "a measurement of the first patient shows"
            assert await page.locator("#measurements tr").count() == 0
            assert "START" not in screen_text(app), "the first patient's instruction shows"
            assert await page.input_value("[data-path='items.0.medication']") == ""
            family = await page.input_value("[data-path='patient.family_name']")
            assert family.upper() == "LEFEBVRE", family
            assert "DUPONT" not in (await page.text_content("body") or "").upper()
            await page.click("#end")
            await on_screen(pilot, CheckoutScreen)
            await touch(pilot, "#leave")
            await cabin.wait_status(lambda s: s["state"] == "awaiting_disinfection", "locked")
            # SIGTERM with the hub's link and the touchscreen still connected: the daemon
            # closes their sockets and stops within 5 s.
            code, elapsed, out = await asyncio.to_thread(daemon.terminate)
            assert code == 0 and elapsed < 5.0, f"SIGTERM: exit {code} after {elapsed:.1f} s"
            await page.close()
        # The day's log: no error, and no patient data (invariant 3).
        assert '"level": "error"' not in out, out[-6000:]
        assert '"logger": "aioice' not in out, "ICE pair checks logged (the doctor's addresses)"
        for private in (
            "Dupont",
            "Hélène",
            "1948-03-02",
            "02/03/1948",
            "Lefebvre",
            "Jeanne",
            "Amoxicilline",
        ):
            assert private.lower() not in out.lower(), f"{private!r} in the daemon's log"
        verified = hygiene_verify(config)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        print(stop_daemon(daemon)[-6000:])  # the daemon's log, on failure
