"""Bonding with an instrument that needs it (``kiosk devices pair ADDRESS``).

Most health instruments bond with "Just Works"; some show a 6-digit passkey that the
technician types. BlueZ asks a registered agent (org.bluez.Agent1) for what the pairing
needs; this module serves one for the time of the pairing, on its own D-Bus connection."""

# No "from __future__ import annotations": dbus-fast reads "-> None" literally then.

import asyncio
import logging
from typing import Any

from bleak import BleakClient
from bleak.exc import BleakError
from dbus_fast import BusType, DBusError, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

from devices.ble.link import CONNECT_TIMEOUT_S, DISCONNECT_TIMEOUT_S, find_device
from devices.ble.scan import SCANNER_CONTROL_TIMEOUT_S

log = logging.getLogger(__name__)

AGENT_PATH = "/org/cabin/pairing_agent"
# The instrument must be in pairing mode (button held); the technician has this long.
PAIRING_TIMEOUT_S = 60.0
# Registering the agent: a D-Bus round trip to bluetoothd.
AGENT_CALL_TIMEOUT_S = SCANNER_CONTROL_TIMEOUT_S


class PairingError(Exception):
    """The instrument did not bond (not in pairing mode, wrong passkey, out of range)."""


class PairingAgent(ServiceInterface):
    """org.bluez.Agent1: answers with the technician's passkey, accepts "Just Works"."""

    def __init__(self, passkey: int | None) -> None:
        super().__init__("org.bluez.Agent1")
        self.passkey = passkey

    @property
    def capability(self) -> str:
        return "NoInputNoOutput" if self.passkey is None else "KeyboardOnly"

    def _need_passkey(self) -> int:
        if self.passkey is None:
            raise DBusError("org.bluez.Error.Rejected", "no passkey given for this pairing")
        return self.passkey

    @dbus_method()
    def Release(self) -> None:
        log.debug("pairing agent released")

    @dbus_method()
    def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:
        return f"{self._need_passkey():06d}"

    @dbus_method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr) -> None:
        log.info("pairing: the instrument asks for a PIN code shown by the cabin")

    @dbus_method()
    def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:
        return self._need_passkey()

    @dbus_method()
    def DisplayPasskey(self, device: DBusObjectPath, passkey: DBusUInt32,
                       entered: DBusUInt16) -> None:  # fmt: skip
        log.info("pairing: passkey shown for the instrument (%d digits typed)", entered)

    @dbus_method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32) -> None:
        # The technician started this pairing with the instrument in pairing mode.
        return None

    @dbus_method()
    def RequestAuthorization(self, device: DBusObjectPath) -> None:
        return None

    @dbus_method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr) -> None:
        return None

    @dbus_method()
    def Cancel(self) -> None:
        log.info("pairing cancelled by the instrument")


async def _agent_manager_call(
    bus: MessageBus, member: str, signature: str, body: list[Any]
) -> None:
    async with asyncio.timeout(AGENT_CALL_TIMEOUT_S):
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path="/org/bluez",
                interface="org.bluez.AgentManager1",
                member=member,
                signature=signature,
                body=body,
            )
        )
    if reply is None or reply.message_type == MessageType.ERROR:
        error = None if reply is None else reply.error_name
        raise PairingError(f"BlueZ refused {member} ({error})")


async def _is_paired(bus: MessageBus, device_path: str) -> bool:
    async with asyncio.timeout(AGENT_CALL_TIMEOUT_S):
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path=device_path,
                interface="org.freedesktop.DBus.Properties",
                member="Get",
                signature="ss",
                body=["org.bluez.Device1", "Paired"],
            )
        )
    return (
        reply is not None
        and reply.message_type == MessageType.METHOD_RETURN
        and reply.body[0].value is True
    )


async def pair_instrument(
    address: str, *, passkey: int | None = None, adapter: str | None = None
) -> None:
    """Find the instrument at ``address``, connect and bond; then disconnect (the
    supervisor's link connects again). PairingError if it does not bond,
    InstrumentNotFoundError if it is not advertising."""
    if passkey is not None and not 0 <= passkey <= 999_999:
        raise ValueError("a passkey has 6 digits (000000-999999)")
    agent = PairingAgent(passkey)
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    try:
        bus.export(AGENT_PATH, agent)
        await _agent_manager_call(bus, "RegisterAgent", "os", [AGENT_PATH, agent.capability])
        await _agent_manager_call(bus, "RequestDefaultAgent", "o", [AGENT_PATH])
        device = await find_device(address, adapter)
        bluez: Any = {"adapter": adapter} if adapter else {}
        client = BleakClient(device, timeout=CONNECT_TIMEOUT_S, bluez=bluez)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S + PAIRING_TIMEOUT_S):
                await client.connect()
                await client.pair()
                paired = await _is_paired(bus, device.details["path"])
        except (BleakError, TimeoutError) as exc:
            raise PairingError(f"{address} did not bond: {exc!r}") from exc
        finally:
            async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                await client.disconnect()
        if not paired:
            raise PairingError(f"{address} did not bond (BlueZ reports it unpaired)")
    finally:
        bus.disconnect()  # BlueZ drops the agent with its connection
        async with asyncio.timeout(AGENT_CALL_TIMEOUT_S):
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
