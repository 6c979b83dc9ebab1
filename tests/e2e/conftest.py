"""Fixtures of the end-to-end tests: bluezoo on a private bus (the BLE tests' own
fixtures), the BLE blood-pressure monitor, the serial oximeter, headless Chromium."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.config import InstrumentKind
from devices.sim.ble_peripheral import SimulatedBlePeripheral
from devices.sim.serial_sim import SerialSimulator
from tests.chromium import CHROMIUM, headless_chromium
from tests.devices.ble.conftest import bluez, private_bus  # noqa: F401 - fixtures
from tests.e2e.hub_world import HubProcess
from tests.e2e.world import start_oximeter
from tests.printer.cups_env import PrivateCups


@pytest.fixture
async def bp_monitor(bluez: str) -> AsyncIterator[SimulatedBlePeripheral]:  # noqa: F811
    """The blood-pressure monitor, advertising on bluezoo's hci1."""
    peripheral = SimulatedBlePeripheral(InstrumentKind.BLOOD_PRESSURE, adapter="hci1")
    await peripheral.start()
    try:
        yield peripheral
    finally:
        await peripheral.stop()


@pytest.fixture
async def oximeter(tmp_path: Path) -> AsyncIterator[SerialSimulator]:
    sim = await start_oximeter(tmp_path)
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    for tool in (CHROMIUM, "pdftotext"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (scripts/debian-packages.txt installs it)")
    async with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def private_cups() -> Iterator[PrivateCups]:
    """A cupsd of the test's own with a cups-pdf queue "PDF": this test disables it
    without touching the machine's CUPS (which other tests print to)."""
    # cupsd's socket path must stay short (sun_path is 108 bytes).
    root = Path(f"/tmp/kiosk-e2e-cups-{uuid.uuid4().hex[:8]}")
    cups = PrivateCups(root)
    try:
        cups.start()
        yield cups
    finally:
        cups.enable()
        cups.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def hub_process(tmp_path: Path) -> AsyncIterator[HubProcess]:
    """The hub as a process, the doctor dr.martin serving both test sites."""
    hub = HubProcess(tmp_path / "hub")
    await hub.prepare({"dr.martin": ["NAN231", "CHE132"]})
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()
