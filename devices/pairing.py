"""Technician tools over BlueZ: find instruments advertising a health service, and bond
with one through a BlueZ pairing agent (`kiosk devices scan` / `kiosk devices pair`).

Most health instruments pair "just works" (agent capability NoInputNoOutput); monitors
that show a 6-digit passkey are paired with ``--pin`` (capability KeyboardOnly, the agent
answers the passkey request with it)."""

# No "from __future__ import annotations": dbus-fast reads the method annotations.
import asyncio
import logging
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method

from devices import gatt

log = logging.getLogger(__name__)

AGENT_PATH = "/fr/kiosk/agent"
# Looking for the instrument before pairing: it advertises every second or so when awake.
FIND_TIMEOUT_S = 20.0
# Bonding includes the user confirming on the device for some models.
PAIR_TIMEOUT_S = 60.0


class PairingError(Exception):
    """The instrument could not be found or refused to bond: the message says why."""


def health_services(adv: AdvertisementData) -> list[int]:
    """The Bluetooth SIG health services an advertisement announces."""
    found = []
    for uuid in adv.service_uuids:
        try:
            short = gatt.parse_uuid(uuid)
        except ValueError:
            continue
        if short in gatt.SERVICES:
            found.append(short)
    return sorted(set(found))


async def scan(seconds: float, adapter: str | None = None) -> list[dict[str, Any]]:
    """Devices seen advertising a health service during ``seconds``."""
    found: dict[str, dict[str, Any]] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        services = health_services(adv)
        if not services:
            return
        found[device.address] = {
            "address": device.address,
            "name": adv.local_name or device.name,
            "rssi": adv.rssi,
            "services": [f"{s:04X} {gatt.SERVICES[s]}" for s in services],
        }

    bluez: dict[str, Any] = {"adapter": adapter} if adapter else {}
    async with BleakScanner(detection_callback=on_advertisement, bluez=bluez):  # type: ignore[arg-type]
        await asyncio.sleep(seconds)
    return sorted(found.values(), key=lambda d: str(d["address"]))


class PairingAgent(ServiceInterface):
    """org.bluez.Agent1: accepts the bonding the technician asked for."""

    def __init__(self, passkey: int | None) -> None:
        super().__init__("org.bluez.Agent1")
        self.passkey = passkey

    @property
    def capability(self) -> str:
        return "NoInputNoOutput" if self.passkey is None else "KeyboardOnly"

    @dbus_method()
    def Release(self) -> None:
        log.debug("pairing agent released")

    @dbus_method()
    def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:
        return f"{self.passkey or 0:06d}"

    @dbus_method()
    def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:
        return self.passkey or 0

    @dbus_method()
    def DisplayPasskey(
        self, device: DBusObjectPath, passkey: DBusUInt32, entered: DBusUInt16
    ) -> None:
        log.info("passkey for %s: %06d", device, passkey)

    @dbus_method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr) -> None:
        log.info("PIN code for %s: %s", device, pincode)

    @dbus_method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32) -> None:
        return None  # the technician started this pairing: confirm

    @dbus_method()
    def RequestAuthorization(self, device: DBusObjectPath) -> None:
        return None

    @dbus_method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr) -> None:
        return None

    @dbus_method()
    def Cancel(self) -> None:
        log.info("pairing cancelled by BlueZ")


async def _agent_call(bus: MessageBus, member: str, signature: str, body: list[Any]) -> None:
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
    if reply is None or reply.message_type is MessageType.ERROR:
        why = "no reply" if reply is None else f"{reply.error_name}: {reply.body}"
        raise PairingError(f"BlueZ refused {member} ({why})")


async def pair(address: str, *, passkey: int | None = None, adapter: str | None = None) -> str:
    """Bonds with the instrument at ``address``; returns its name."""
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    agent = PairingAgent(passkey)
    bus.export(AGENT_PATH, agent)
    try:
        await _agent_call(bus, "RegisterAgent", "os", [AGENT_PATH, agent.capability])
        await _agent_call(bus, "RequestDefaultAgent", "o", [AGENT_PATH])
        bluez: dict[str, Any] = {"adapter": adapter} if adapter else {}
        device = await BleakScanner.find_device_by_address(
            address,
            timeout=FIND_TIMEOUT_S,
            bluez=bluez,  # type: ignore[arg-type]
        )
        if device is None:
            raise PairingError(f"{address} was not seen advertising: wake the instrument up")
        async with asyncio.timeout(PAIR_TIMEOUT_S), BleakClient(device) as client:
            await client.pair()
        return device.name or address
    finally:
        try:
            await _agent_call(bus, "UnregisterAgent", "o", [AGENT_PATH])
        except PairingError:
            log.debug("pairing agent already gone")
        bus.unexport(AGENT_PATH)
        bus.disconnect()
        await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
