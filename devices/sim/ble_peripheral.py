"""A simulated Bluetooth LE health instrument: a GATT application and an LE advertisement
registered over D-Bus (dbus-fast service objects) on a BlueZ adapter.

Used with bluezoo (a BlueZ D-Bus mock) in the tests and the demo: the cabin adapter
discovers it, connects, subscribes and receives its measurements the way it would from a
real blood-pressure monitor, thermometer, oximeter, scale or glucometer.

bluezoo forwards a peripheral's ``PropertiesChanged(Value)`` to the central and then calls
``Confirm()`` (for notifications and indications alike), so characteristics implement
``Confirm`` and expose neither ``NotifyAcquired`` nor ``Handle``."""

# No "from __future__ import annotations": dbus-fast reads "-> None" literally then.
import asyncio
import dataclasses
import logging
import random
from collections.abc import Coroutine
from datetime import datetime
from typing import Annotated, Any

from dbus_fast import BusType, Message, MessageType, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from devices.ble import profiles, racp
from devices.config import InstrumentKind
from devices.gatt.racp import OpCode, Operator, RacpRequestError
from devices.measurement import DecodeError
from devices.sim import ble_payloads

log = logging.getLogger(__name__)

BLUEZ = "org.bluez"
# A simulated peripheral re-advertises with changing service data this often: bluezoo
# reports a device to a scanner only when one of its properties changes.
ADVERTISING_REFRESH_S = 0.25
# How long the simulator waits for bluez(oo) to answer a registration call.
DBUS_CALL_TIMEOUT_S = 5.0
# How long the simulated glucometer waits for its records to be passed on before it sends
# the RACP response (bluezoo confirms each value it forwards).
CONFIRM_TIMEOUT_S = 5.0

DBusStrList = Annotated[list[str], DBusSignature("as")]


class SimCharacteristic(ServiceInterface):
    """org.bluez.GattCharacteristic1 served by the simulator."""

    def __init__(
        self,
        peripheral: "SimulatedBlePeripheral",
        path: str,
        uuid: str,
        service_path: str,
        flags: list[str],
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.peripheral = peripheral
        self.path = path
        self.uuid = uuid
        self.service_path = service_path
        self.flags = flags
        self.value = b""
        self.notifying = False
        self.confirmations = 0
        self._confirmed = asyncio.Event()

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self.service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return self.flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        self.peripheral.on_write(self, bytes(value))

    @dbus_method()
    def StartNotify(self) -> None:
        if not self.notifying:
            self.notifying = True
            self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})

    @dbus_method()
    def Confirm(self) -> None:
        self.confirmations += 1
        self._confirmed.set()

    async def wait_confirmed(self, count: int) -> None:
        """Until ``count`` values were confirmed: bluezoo confirms each value once it has
        passed it on, and may reorder values of different characteristics, which a real
        ATT bearer never does."""
        async with asyncio.timeout(CONFIRM_TIMEOUT_S):
            while self.confirmations < count:
                self._confirmed.clear()
                await self._confirmed.wait()

    def send(self, data: bytes) -> bool:
        """Notify or indicate ``data``; False if the central is not subscribed."""
        self.value = data
        if not self.notifying:
            return False
        self.emit_properties_changed({"Value": data})
        return True


class SimService(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True


class SimAdvertisement(ServiceInterface):
    """org.bluez.LEAdvertisement1 (no ManufacturerData: bluezoo mistypes it)."""

    def __init__(self, service_uuid: str, local_name: str) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self.service_uuid = service_uuid
        self.local_name = local_name
        self.counter = 0

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> DBusStrList:
        return [self.service_uuid]

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> DBusStr:
        return self.local_name

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> DBusDict:
        return {self.service_uuid: Variant("ay", bytes((self.counter & 0xFF,)))}

    @dbus_method()
    def Release(self) -> None:
        log.debug("advertisement released")

    def refresh(self) -> None:
        self.counter += 1
        self.emit_properties_changed({"ServiceData": self.ServiceData})


_FLAGS = {
    profiles.BLOOD_PRESSURE_MEASUREMENT: ["indicate"],
    profiles.TEMPERATURE_MEASUREMENT: ["indicate"],
    profiles.PLX_SPOT_CHECK: ["indicate"],
    profiles.WEIGHT_MEASUREMENT: ["indicate"],
    profiles.BODY_COMPOSITION_MEASUREMENT: ["indicate"],
    profiles.RECORD_ACCESS_CONTROL_POINT: ["write", "indicate"],
    profiles.BATTERY_LEVEL: ["read", "notify"],
}


@dataclasses.dataclass(frozen=True)
class GlucoseRecord:
    sequence_number: int
    mg_dl: int
    when: datetime


class SimulatedBlePeripheral:
    """One instrument of ``kind`` on ``adapter`` (e.g. "hci1") of the bus at
    DBUS_SYSTEM_BUS_ADDRESS. ``start`` registers it, ``stop`` removes it."""

    def __init__(
        self,
        kind: InstrumentKind,
        *,
        adapter: str = "hci1",
        name: str | None = None,
        battery: int = 87,
    ) -> None:
        self.kind = kind
        self.profile = profiles.profile_for(kind)
        self.adapter_path = f"/org/bluez/{adapter}"
        self.app_path = f"/org/cabin/sim/{adapter}/{kind.value}"
        self.name = name or f"Sim {kind.value}"
        self.battery = battery
        self.glucose_records: list[GlucoseRecord] = []
        self.racp_requests: list[bytes] = []
        self.refuse_racp = False  # a fault: answer every request "procedure not completed"
        self.characteristics: dict[str, SimCharacteristic] = {}
        self._bus: MessageBus | None = None
        self._advertisement = SimAdvertisement(self.profile.service, self.name)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        self._bus = bus
        self._export_gatt(bus)
        bus.export(f"{self.app_path}/advertisement", self._advertisement)
        await self._call(
            "org.bluez.GattManager1", "RegisterApplication", "oa{sv}", [self.app_path, {}]
        )
        await self._call(
            "org.bluez.LEAdvertisingManager1",
            "RegisterAdvertisement",
            "oa{sv}",
            [f"{self.app_path}/advertisement", {}],
        )
        self._spawn(self._advertise(), "sim-ble-advertise")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._bus is not None:
            bus, self._bus = self._bus, None
            bus.disconnect()  # bluez(oo) drops the application and advertisement
            async with asyncio.timeout(DBUS_CALL_TIMEOUT_S):
                await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

    def _export_gatt(self, bus: MessageBus) -> None:
        services = [
            (self.profile.service, self.profile.subscribed),
            (profiles.BATTERY_SERVICE, (profiles.BATTERY_LEVEL,)),
        ]
        for s_index, (service_uuid, char_uuids) in enumerate(services):
            service_path = f"{self.app_path}/service{s_index}"
            bus.export(service_path, SimService(service_uuid))
            for c_index, char_uuid in enumerate(char_uuids):
                char = SimCharacteristic(
                    self,
                    f"{service_path}/char{c_index}",
                    char_uuid,
                    service_path,
                    _FLAGS.get(char_uuid, ["notify"]),
                )
                bus.export(char.path, char)
                self.characteristics[char_uuid] = char
        self.characteristics[profiles.BATTERY_LEVEL].value = ble_payloads.battery_level(
            self.battery
        )

    async def _call(self, interface: str, member: str, signature: str, body: list[Any]) -> None:
        assert self._bus is not None
        async with asyncio.timeout(DBUS_CALL_TIMEOUT_S):
            reply = await self._bus.call(
                Message(
                    destination=BLUEZ,
                    path=self.adapter_path,
                    interface=interface,
                    member=member,
                    signature=signature,
                    body=body,
                )
            )
        if reply is None or reply.message_type == MessageType.ERROR:
            detail = None if reply is None else (reply.error_name, reply.body)
            raise RuntimeError(f"{interface}.{member} failed: {detail}")

    async def _advertise(self) -> None:
        while True:
            self._advertisement.refresh()
            await asyncio.sleep(ADVERTISING_REFRESH_S)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what a test or the demo does -------------------------------------------

    def is_subscribed(self, char_uuid: str) -> bool:
        char = self.characteristics.get(char_uuid)
        return char is not None and char.notifying

    def send(self, char_uuid: str, data: bytes) -> bool:
        """Send a raw value (also a malformed one); False if nobody is subscribed."""
        return self.characteristics[char_uuid].send(data)

    def confirmations(self, char_uuid: str) -> int:
        return self.characteristics[char_uuid].confirmations

    def send_blood_pressure(
        self, systolic: int, diastolic: int, pulse: int, when: datetime | None = None
    ) -> bool:
        mean = round(diastolic + (systolic - diastolic) / 3)
        return self.send(
            profiles.BLOOD_PRESSURE_MEASUREMENT,
            ble_payloads.blood_pressure(systolic, diastolic, mean, pulse, when),
        )

    def send_cuff_pressure(self, pressure: int) -> bool:
        return self.send(profiles.INTERMEDIATE_CUFF_PRESSURE, ble_payloads.cuff_pressure(pressure))

    def send_temperature(self, celsius: str, when: datetime | None = None) -> bool:
        return self.send(profiles.TEMPERATURE_MEASUREMENT, ble_payloads.temperature(celsius, when))

    def send_spo2(self, spo2: int, pulse: int) -> bool:
        return self.send(profiles.PLX_SPOT_CHECK, ble_payloads.plx_spot_check(spo2, pulse))

    def send_weight(self, kilograms: str) -> bool:
        return self.send(profiles.WEIGHT_MEASUREMENT, ble_payloads.weight(kilograms))

    def send_intermediate_temperature(self, celsius: str) -> bool:
        return self.send(profiles.INTERMEDIATE_TEMPERATURE, ble_payloads.temperature(celsius))

    def send_spo2_continuous(self, spo2: int, pulse: int) -> bool:
        return self.send(profiles.PLX_CONTINUOUS, ble_payloads.plx_continuous(spo2, pulse))

    def send_body_fat(self, percent: str) -> bool:
        return self.send(
            profiles.BODY_COMPOSITION_MEASUREMENT, ble_payloads.body_composition(percent)
        )

    def send_heart_rate(self, bpm: int) -> bool:
        return self.send(profiles.HEART_RATE_MEASUREMENT, ble_payloads.heart_rate(bpm))

    def send_truncated(self, char_uuid: str, data: bytes, keep: int) -> bool:
        """A fault: only the first ``keep`` bytes of a value."""
        return self.send(char_uuid, data[:keep])

    def send_garbage(self, char_uuid: str, rng: random.Random, size: int = 8) -> bool:
        """A fault: random bytes instead of a value."""
        return self.send(char_uuid, rng.randbytes(size))

    def set_battery(self, percent: int) -> bool:
        self.battery = percent
        return self.send(profiles.BATTERY_LEVEL, ble_payloads.battery_level(percent))

    def store_glucose(self, mg_dl: int, when: datetime) -> int:
        """Store a record in the meter's memory (as after a finger-prick); its sequence number."""
        number = self.glucose_records[-1].sequence_number + 1 if self.glucose_records else 1
        self.glucose_records.append(GlucoseRecord(number, mg_dl, when))
        return number

    # -- Record Access Control Point --------------------------------------------

    def on_write(self, char: SimCharacteristic, value: bytes) -> None:
        if char.uuid != profiles.RECORD_ACCESS_CONTROL_POINT:
            return
        self.racp_requests.append(value)
        # The write is acknowledged first; records and the response follow.
        self._spawn(self._answer_racp(value), "sim-ble-racp")

    async def _answer_racp(self, data: bytes) -> None:
        await asyncio.sleep(0)  # let the write's reply go out first
        answer: racp.RacpResponse
        try:
            request = racp.RacpRequest.from_bytes(data)
        except RacpRequestError as exc:
            answer = racp.ResponseCode(exc.request_op, exc.response)
        except DecodeError:  # not even an op code
            answer = racp.ResponseCode(0, racp.ResponseValue.OP_CODE_NOT_SUPPORTED)
        else:
            answer = await self._run_racp(request)
        self.send(profiles.RECORD_ACCESS_CONTROL_POINT, answer.to_bytes())

    async def _run_racp(self, request: racp.RacpRequest) -> racp.RacpResponse:
        if self.refuse_racp:
            return racp.ResponseCode(request.op, racp.ResponseValue.PROCEDURE_NOT_COMPLETED)
        selected = [r for r in self.glucose_records if request.matches(r.sequence_number)]
        if request.operator is Operator.FIRST:
            selected = selected[:1]
        elif request.operator is Operator.LAST:
            selected = selected[-1:]
        if request.op is OpCode.REPORT_NUMBER_OF_RECORDS:
            return racp.NumberOfRecords(len(selected))
        if request.op is not OpCode.REPORT_STORED_RECORDS:
            return racp.ResponseCode(request.op, racp.ResponseValue.OP_CODE_NOT_SUPPORTED)
        records = self.characteristics[profiles.GLUCOSE_MEASUREMENT]
        expected = records.confirmations
        for record in selected:
            data = ble_payloads.glucose(record.sequence_number, record.mg_dl, record.when)
            expected += records.send(data)
        await records.wait_confirmed(expected)  # the records before the response
        if not selected:
            return racp.ResponseCode(request.op, racp.ResponseValue.NO_RECORDS_FOUND)
        return racp.ResponseCode(request.op, racp.ResponseValue.SUCCESS)
