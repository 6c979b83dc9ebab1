"""The full-day world, killed with SIGKILL mid-consultation right after the doctor signed
a prescription that could not print yet (its CUPS queue disabled: stored, not printed).

On restart the cabin is locked, the prescription prints exactly once when the printer
comes back, the patient leaves, the referent logs the disinfection on the touchscreen
and the hygiene log chain verifies (`kiosk hygiene verify`)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from devices.sim.ble_peripheral import SimulatedBlePeripheral
from devices.sim.serial_sim import SerialSimulator
from kiosk.ui.screens.consultation import CheckoutScreen
from tests.checkin_steps import checkin_requests
from tests.e2e.doctor_page import (
    open_console,
    page_frames_advance,
    sign_prescription,
    take_patient,
)
from tests.e2e.hub_world import HubProcess, wait_until_online
from tests.e2e.touchscreen import on_screen, referent_disinfects, touchscreen, until
from tests.e2e.world import (
    STEP_S,
    Cabin,
    drop_dead_clients_link,
    eventually,
    hygiene_verify,
    start_daemon,
    stop_daemon,
    write_config,
)
from tests.printer.conftest import needs_root
from tests.printer.cups_env import PrivateCups, printed_copies
from tests.ui.pilot_helpers import screen_text, touch

pytestmark = needs_root  # the private cupsd runs the cups-pdf backend as root

MEDICATION = "Ibuprofène 200 mg comprimé"


def prescription(state_dir: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{state_dir / 'cabin.sqlite3'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM print_documents WHERE kind = 'prescription'").fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, [dict(r) for r in rows]
    return dict(rows[0])


def cups_jobs(cups: PrivateCups) -> str:
    done = subprocess.run(
        ["lpstat", "-h", str(cups.socket), "-o"], capture_output=True, text=True, check=False
    )
    return done.stdout


async def test_sigkill_mid_consultation_after_signing(
    *,
    tmp_path: Path,
    bluez: str,
    bp_monitor: SimulatedBlePeripheral,
    oximeter: SerialSimulator,
    browser: Any,
    private_cups: PrivateCups,
    hub_process: HubProcess,
) -> None:
    started = time.time()
    config = write_config(
        tmp_path, oximeter.link, hub_process.url, cups_server=str(private_cups.socket)
    )
    await hub_process.enrol("e2e-01", "NAN231", tmp_path / "state")
    daemon = await start_daemon(config, bluez)
    try:
        cabin = Cabin(daemon)
        await wait_until_online(hub_process, cabin.url)
        code = await hub_process.book("NAN231", "Durand", "Louise", "1955-07-14")
        for path, body in checkin_requests(code, "Durand", "Louise", "1955-07-14"):
            code, answer = await cabin.ui(path, body)
            assert code == 200, (path, answer)
        await cabin.wait_status(
            lambda s: all(i["state"] == "ready" for i in s["instruments"]), "instruments ready"
        )
        page = await open_console(browser, hub_process.url)
        await take_patient(page, "e2e-01")
        await page.click("#join")
        await page_frames_advance(page)

        # The printer is off: the signed prescription is stored, not printed.
        private_cups.disable()
        await sign_prescription(page, MEDICATION, "F")
        number = str(prescription(daemon.state_dir)["number"])
        assert (await cabin.status())["state"] == "in_consultation"

        daemon.kill()
        await page.close()
        await drop_dead_clients_link(bluez)
        assert printed_copies(number, started) == []

        daemon = await start_daemon(config, bluez)
        cabin = Cabin(daemon)
        status = await cabin.status()
        assert status["locked"] is True, status
        # A consultation cut short goes to checkout: the patient is told about the
        # prescription (invariant 2), then leaves.
        assert status["state"] == "checkout", status
        code, body = await cabin.ui("/api/ui/checkin/start")
        assert (code, body.get("code")) == (409, "locked"), body
        # The instruments come back by themselves.
        await cabin.wait_status(
            lambda s: all(i["state"] == "ready" for i in s["instruments"]), "instruments ready"
        )
        async with touchscreen(cabin) as (app, pilot):
            await on_screen(pilot, CheckoutScreen)

            # The printer comes back: the prescription prints, once; the patient sees it.
            private_cups.enable()
            await eventually(
                lambda: printed_copies(number, started), "the prescription printed", within_s=60
            )
            await eventually(
                lambda: prescription(daemon.state_dir)["state"] == "completed",
                "the printer component sees its job completed",
                within_s=60,
            )
            # Nothing more is queued in CUPS: no second copy is on its way.
            await eventually(lambda: cups_jobs(private_cups) == "", "the CUPS queue empties")
            copies = printed_copies(number, started)
            assert len(copies) == 1, f"{len(copies)} copies; CUPS jobs: {cups_jobs(private_cups)}"
            await until(pilot, lambda: "imprimée" in screen_text(app), "printed, told")

            # The patient leaves; the referent cleans; the log verifies.
            await touch(pilot, "#leave")
            await cabin.wait_status(lambda s: s["state"] == "awaiting_disinfection", "locked")
            steps = await referent_disinfects(pilot)
        assert {"siege", "ecran"} <= set(steps), steps
        await cabin.wait_status(lambda s: s["state"] == "idle", "idle", within_s=STEP_S)
        verified = hygiene_verify(config)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        print(stop_daemon(daemon)[-6000:])  # the daemon's log, on failure
