"""`kiosk devices scan` / `pair` with bleak's real BlueZ backend against bluezoo on a
private D-Bus bus (the BLE harness of tests/devices/ble)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import BusType, Message
from dbus_fast.aio import MessageBus

from devices.config import InstrumentKind
from devices.pairing import PairingError, pair, scan
from tests.devices.ble import conftest as ble
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS, close_bus

REPO = Path(__file__).resolve().parents[2]

# The BLE harness's fixtures, used here by name.
private_bus = ble.private_bus
bluez = ble.bluez
make_peripheral = ble.make_peripheral


async def test_scan_lists_health_instruments(make_peripheral: Callable[..., Any]) -> None:
    await make_peripheral(InstrumentKind.BLOOD_PRESSURE)
    found = await scan(3.0, adapter=CABIN_ADAPTER)
    assert [d["address"] for d in found] == [PERIPHERAL_ADDRESS]
    assert found[0]["services"] == ["1810 Blood Pressure"]


async def _paired(bus_address: str, address: str) -> bool:
    bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    try:
        path = f"/org/bluez/{CABIN_ADAPTER}/dev_{address.replace(':', '_')}"
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path=path,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=["org.bluez.Device1", "Paired"],
            )
        )
        assert reply is not None
        return bool(reply.body[0].value)
    finally:
        await close_bus(bus)


async def test_pair_bonds_through_the_agent(
    bluez: str, make_peripheral: Callable[..., Any]
) -> None:
    await make_peripheral(InstrumentKind.THERMOMETER)
    await pair(PERIPHERAL_ADDRESS, adapter=CABIN_ADAPTER)
    assert await _paired(bluez, PERIPHERAL_ADDRESS)


async def test_pair_an_instrument_that_is_not_there(
    bluez: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("devices.pairing.FIND_TIMEOUT_S", 1.5)
    with pytest.raises(PairingError, match="not seen advertising"):
        await pair("00:1A:7D:DA:71:09", adapter=CABIN_ADAPTER)


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
    assert device["address"] == PERIPHERAL_ADDRESS and device["services"] == ["1822 Pulse Oximeter"]
    pair_proc = await asyncio.create_subprocess_exec(
        *cli, "pair", PERIPHERAL_ADDRESS.lower(), "--adapter", CABIN_ADAPTER, cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, _ = await pair_proc.communicate()
    assert pair_proc.returncode == 0 and f"({PERIPHERAL_ADDRESS})" in out.decode()
