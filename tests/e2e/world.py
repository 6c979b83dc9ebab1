"""The world of the end-to-end tests: one cabin as a real daemon process with every real
component around it.

- a private D-Bus bus with bluezoo (two adapters), the simulated BLE blood-pressure
  monitor on hci1, the cabin's bleak on hci0 (``instruments.adapter``);
- a Nonin pulse oximeter on a pseudo-terminal (SerialSimulator, symlink in the config);
- CUPS with its cups-pdf queue "PDF" (the machine's, or a private cupsd);
- hygiene with the simulated lock, short contact times, a referent PIN;
- the hub as a process (tests/e2e/hub_world.py) with the doctor's account; the cabin
  enrolled at it and dialling out to it; ICE on loopback.

Everything the test starts is stopped by the test, by its own handle."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from dbus_fast import MessageType

from devices.serialproto import PROTOCOLS
from devices.sim.serial_sim import SerialSimulator
from kiosk.ui_auth import HEADER, read_token
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS, bluez_call
from tests.kiosk.process import REPO, DaemonProcess
from tests.polling import until

DOCTOR_USER = "dr.martin"
DOCTOR_RPPS = "10003456786"  # tests/hub/fleet.py gives the doctors this RPPS
REFERENT_PIN = "13579"
# A step of the day (a screen, a page, a print) takes a second or two here; allow for a
# loaded machine.
STEP_S = 30.0

CABIN_TOML = """
[site]
cabin_id = "e2e-01"
name = "Cabine de bout en bout"
address = "1 place de la Mairie, 77000 Melun, France"

[hours]
always_open = true

[network]
listen_host = "127.0.0.1"
listen_port = 0
ice_servers = []
ice_loopback = true

[hub]
urls = ["{hub_url}"]

[storage]
state_dir = "{state_dir}"

[printer]
queue = "PDF"
{cups_server}
retry_initial_s = 0.2
retry_max_s = 1.0
poll_interval_s = 0.1
status_interval_s = 0.5
job_timeout_s = 60

[call]
doctor_absent_timeout_s = 300

[call.camera]
width = 320
height = 240
fps = 15

[[instruments]]
name = "tensiometre"
kind = "blood_pressure"
transport = "ble"
address = "{ble_address}"
adapter = "hci0"
model = "Simulé (BLE)"

[[instruments]]
name = "oxymetre"
kind = "pulse_oximeter"
transport = "serial"
protocol = "nonin-df8"
port = "{oximeter_port}"

[hygiene.lock]
driver = "simulated"

[[hygiene.steps]]
id = "siege"
label_fr = "Désinfecter le siège"
label_en = "Disinfect the seat"
contact_time_s = 1

[[hygiene.steps]]
id = "ecran"
label_fr = "Essuyer l'écran tactile"
label_en = "Wipe the touchscreen"

[[hygiene.steps]]
id = "brassard"
label_fr = "Désinfecter le brassard du tensiomètre"
label_en = "Disinfect the blood pressure cuff"
when_used = ["blood_pressure"]
contact_time_s = 1

[[hygiene.steps]]
id = "oxymetre"
label_fr = "Désinfecter la pince de l'oxymètre"
label_en = "Disinfect the oximeter clip"
when_used = ["pulse_oximeter"]
contact_time_s = 1

[[hygiene.steps]]
id = "thermometre"
label_fr = "Désinfecter le thermomètre"
label_en = "Disinfect the thermometer"
when_used = ["thermometer"]

[[hygiene.steps]]
id = "balance"
label_fr = "Désinfecter le plateau de la balance"
label_en = "Disinfect the scale plate"
when_used = ["scale", "body_composition"]

[[hygiene.referents]]
id = "marie"
name = "Marie L."
pin_hash = "{referent_hash}"
"""

_HASHES: dict[str, str] = {}


def _hashes() -> dict[str, str]:
    """argon2 is slow on purpose: hashed once per test session."""
    if not _HASHES:
        from hygiene.auth import hash_pin

        _HASHES["referent"] = hash_pin(REFERENT_PIN)
    return _HASHES


def write_config(
    root: Path, oximeter_port: Path, hub_url: str, cups_server: str | None = None
) -> Path:
    config = root / "cabin.toml"
    config.write_text(
        CABIN_TOML.format(
            state_dir=root / "state",
            hub_url=hub_url,
            cups_server=f'cups_server = "{cups_server}"' if cups_server else "",
            ble_address=PERIPHERAL_ADDRESS,
            oximeter_port=oximeter_port,
            referent_hash=_hashes()["referent"],
        ),
        encoding="utf-8",
    )
    return config


async def start_oximeter(root: Path) -> SerialSimulator:
    """The Nonin oximeter on a pty: answers the format selection, sends a reading when
    the test says the patient clipped it on."""
    sim = SerialSimulator(PROTOCOLS["nonin-df8"], root / "oxymetre.tty", seed=7)
    await sim.start()
    return sim


async def start_daemon(config: Path, bus_address: str) -> DaemonProcess:
    """``kiosk run --config`` as a process of its own (started off the loop: the BLE
    simulator on this loop must keep answering bluezoo meanwhile)."""
    env = {"DBUS_SYSTEM_BUS_ADDRESS": bus_address}
    return await asyncio.to_thread(
        DaemonProcess, config, config.parent / "state", driven=False, env=env
    )


def stop_daemon(daemon: DaemonProcess) -> str:
    """Ends the daemon (SIGTERM, then SIGKILL); its output for a failure message."""
    if daemon.proc.poll() is not None:
        return ""
    try:
        return daemon.terminate(timeout=10)[2]
    except subprocess.TimeoutExpired:
        daemon.kill()
        return "(did not stop on SIGTERM)"


class Cabin:
    """HTTP to the daemon process: its status and the touchscreen's API (UI token)."""

    def __init__(self, daemon: DaemonProcess) -> None:
        self.daemon = daemon
        self.url = daemon.url
        self.ui_token = read_token(daemon.state_dir)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.url + path, json=body, headers=headers or {}) as resp,
        ):
            return resp.status, await resp.json()

    async def status(self) -> dict[str, Any]:
        code, body = await self.request("GET", "/api/status")
        assert code == 200, body
        return dict(body)

    async def ui(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.request("POST", path, body or {}, {HEADER: self.ui_token})

    async def wait_status(
        self, check: Callable[[dict[str, Any]], bool], what: str, within_s: float = STEP_S
    ) -> dict[str, Any]:
        deadline = time.monotonic() + within_s
        status = await self.status()
        while not check(status):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {within_s} s; status: {status}")
            await asyncio.sleep(0.1)
            status = await self.status()
        return status


async def eventually(check: Callable[[], Any], what: str, within_s: float = STEP_S) -> Any:
    """Polls ``check()`` (sync or async) until truthy; fails with ``what`` after ``within_s``."""
    return await until(check, within_s, what)


def hygiene_verify(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "hygiene", "verify", "--config", str(config)],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def drop_dead_clients_link(bus_address: str) -> None:
    """After a SIGKILL of the cabin: BlueZ drops the notification sessions of a D-Bus
    client that vanished; bluezoo keeps them (its StartNotify for the next client then
    asks the peripheral for AcquireNotify). Disconnecting the link clears them in
    bluezoo (tests/devices/ble/bluezoo_patched.py), as a link loss would."""
    device = PERIPHERAL_ADDRESS.replace(":", "_")
    reply = await bluez_call(
        bus_address, f"/org/bluez/{CABIN_ADAPTER}/dev_{device}", "org.bluez.Device1", "Disconnect"
    )
    assert reply is not None and reply.message_type == MessageType.METHOD_RETURN, reply
