"""`kiosk devices scan` / `pair` as real processes: bleak's BlueZ backend against bluezoo
on a private D-Bus bus (the BLE harness of tests/devices/ble)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.config import InstrumentKind
from tests.devices.ble import conftest as ble
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS, bluez_property

REPO = Path(__file__).resolve().parents[2]

# The BLE harness's fixtures, used here by name.
private_bus = ble.private_bus
bluez = ble.bluez
make_peripheral = ble.make_peripheral


async def _paired(bus_address: str, address: str) -> bool:
    reply = await bluez_property(
        bus_address,
        f"/org/bluez/{CABIN_ADAPTER}/dev_{address.replace(':', '_')}",
        "org.bluez.Device1",
        "Paired",
    )
    assert reply is not None
    return bool(reply.body[0].value)


async def test_scan_and_pair_commands(make_peripheral: Callable[..., Any]) -> None:
    await make_peripheral(InstrumentKind.PULSE_OXIMETER)
    cli = [sys.executable, "-m", "kiosk.cli", "devices"]
    scan_proc = await asyncio.create_subprocess_exec(
        *cli, "scan", "--seconds", "3", "--adapter", CABIN_ADAPTER, cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, _ = await scan_proc.communicate()
    assert scan_proc.returncode == 0
    (device,) = [json.loads(line) for line in out.decode().splitlines()]
    assert device["address"] == PERIPHERAL_ADDRESS and device["kinds"] == ["pulse_oximeter"]
    pair_proc = await asyncio.create_subprocess_exec(
        *cli, "pair", PERIPHERAL_ADDRESS.lower(), "--adapter", CABIN_ADAPTER, cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, _ = await pair_proc.communicate()
    assert pair_proc.returncode == 0 and f"paired with {PERIPHERAL_ADDRESS}" in out.decode()
    assert await _paired(os.environ["DBUS_SYSTEM_BUS_ADDRESS"], PERIPHERAL_ADDRESS)
