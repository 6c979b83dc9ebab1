"""Bonding through a BlueZ agent (``kiosk devices pair``) against bluezoo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dbus_fast import BusType, Message
from dbus_fast.aio import MessageBus

from devices.ble.pairing import PairingError, pair_instrument
from devices.config import InstrumentKind
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS, close_bus

DEVICE_PATH = f"/org/bluez/{CABIN_ADAPTER}/dev_{PERIPHERAL_ADDRESS.replace(':', '_')}"


async def device_property(bus_address: str, name: str) -> Any:
    bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path=DEVICE_PATH,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=["org.bluez.Device1", name],
            )
        )
    finally:
        await close_bus(bus)
    assert reply is not None
    return reply.body[0].value


async def test_just_works_pairing_bonds_then_disconnects(
    bluez: str, make_peripheral: Callable[..., Any]
) -> None:
    await make_peripheral(InstrumentKind.SCALE)
    await pair_instrument(PERIPHERAL_ADDRESS, adapter=CABIN_ADAPTER)
    assert await device_property(bluez, "Paired") is True
    assert await device_property(bluez, "Connected") is False


async def test_pairing_that_does_not_bond_is_an_error(
    bluez: str, make_peripheral: Callable[..., Any]
) -> None:
    # bluezoo bonds only with "Just Works" agents: a passkey pairing never completes
    await make_peripheral(InstrumentKind.SCALE)
    with pytest.raises(PairingError, match="did not bond"):
        await pair_instrument(PERIPHERAL_ADDRESS, passkey=123456, adapter=CABIN_ADAPTER)
    assert await device_property(bluez, "Paired") is False


async def test_passkey_must_have_six_digits() -> None:
    with pytest.raises(ValueError, match="6 digits"):
        await pair_instrument(PERIPHERAL_ADDRESS, passkey=1_000_000)
