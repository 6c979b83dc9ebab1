"""BleLink (bleak's real BlueZ backend) against simulated instruments on bluezoo."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from devices.ble import link as link_module
from devices.ble import profiles, racp
from devices.ble.link import BleLink
from devices.ble.profiles import UnsupportedInstrumentError
from devices.config import InstrumentKind, InstrumentSettings
from devices.measurement import Measurement
from devices.sim.ble_demo import play_one_reading
from devices.sim.ble_peripheral import SimulatedBlePeripheral
from kiosk.events import InstrumentState
from tests.devices.ble.conftest import (
    CABIN_ADAPTER,
    PERIPHERAL_ADDRESS,
    cabin_adapter_discovering,
    close_bus,
    poll,
)


@dataclasses.dataclass
class RecordingSink:
    states: list[tuple[InstrumentState, str, int | None]] = dataclasses.field(default_factory=list)
    measurements: list[Measurement] = dataclasses.field(default_factory=list)

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        self.states.append((state, detail, battery))

    def measurement(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)

    @property
    def current(self) -> InstrumentState | None:
        return self.states[-1][0] if self.states else None

    def finals(self) -> list[Measurement]:
        return [m for m in self.measurements if not m.intermediate]


def settings(kind: InstrumentKind, **extra: Any) -> InstrumentSettings:
    return InstrumentSettings(
        name=f"test-{kind.value}".replace("_", "-"),
        kind=kind,
        transport="ble",
        address=PERIPHERAL_ADDRESS,
        **extra,
    )


def values(measurement: Measurement) -> dict[str, Decimal | None]:
    return {o.code: o.value for o in measurement.observations}


@pytest.fixture
async def running() -> AsyncIterator[Callable[[BleLink], RecordingSink]]:
    """``running(link)`` starts ``link.run`` and returns its sink; cancelled at the end."""
    tasks: list[asyncio.Task[None]] = []

    def start(link: BleLink) -> RecordingSink:
        sink = RecordingSink()
        tasks.append(asyncio.create_task(link.run(sink), name="ble-link"))
        return sink

    yield start
    for task in tasks:
        task.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await task


async def connected(
    make_peripheral: Callable[..., Any],
    running: Callable[[BleLink], RecordingSink],
    kind: InstrumentKind,
    configured_as: InstrumentKind | None = None,
    **peripheral_args: Any,
) -> tuple[SimulatedBlePeripheral, BleLink, RecordingSink]:
    peripheral = await make_peripheral(kind, **peripheral_args)
    link = BleLink(settings(configured_as or kind), adapter=CABIN_ADAPTER)
    sink = running(link)
    await poll(lambda: sink.current in ("ready", "low_battery", "error"), limit_s=20)
    return peripheral, link, sink


async def test_blood_pressure_found_connected_and_decoded(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral, link, sink = await connected(
        make_peripheral, running, InstrumentKind.BLOOD_PRESSURE
    )
    assert sink.states[-1] == ("ready", "connecté", 87)
    assert peripheral.is_subscribed(profiles.BLOOD_PRESSURE_MEASUREMENT)
    assert peripheral.is_subscribed(profiles.INTERMEDIATE_CUFF_PRESSURE)
    assert peripheral.is_subscribed(profiles.BATTERY_LEVEL)

    for pressure in (60, 120, 160):
        assert peripheral.send_cuff_pressure(pressure)
    await poll(lambda: len(sink.measurements) == 3)
    assert sink.current == "measuring"
    assert all(m.intermediate for m in sink.measurements)
    # (bluezoo may reorder notifications; a real ATT bearer does not)
    assert sorted(values(m)["8480-6"] or 0 for m in sink.measurements) == [60, 120, 160]

    assert peripheral.send_blood_pressure(128, 82, 71)
    await poll(sink.finals)
    [bp] = sink.finals()
    assert bp.kind == "blood_pressure"
    assert values(bp) == {"8480-6": 128, "8462-4": 82, "8478-0": 97, "8867-4": 71}
    assert {o.unit for o in bp.observations} == {"mm[Hg]", "/min"}
    assert sink.current == "ready"
    # the indication was confirmed back to the instrument
    await poll(lambda: peripheral.confirmations(profiles.BLOOD_PRESSURE_MEASUREMENT) >= 1)
    # nothing to start from the cabin: the patient presses the button
    assert await link.request_measurement() is False


async def test_battery_level_and_low_battery(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral, _, sink = await connected(
        make_peripheral, running, InstrumentKind.THERMOMETER, battery=64
    )
    assert sink.states[-1][2] == 64
    assert peripheral.set_battery(12)
    await poll(lambda: sink.current == "low_battery")
    assert sink.states[-1] == ("low_battery", "connecté", 12)
    assert peripheral.send_temperature("37.4")
    await poll(sink.finals)
    assert values(sink.finals()[0]) == {"8310-5": Decimal("37.4")}
    assert sink.current == "low_battery"


async def _disconnect_from_cabin_side(bus_address: str) -> None:
    """A link loss: Device1.Disconnect on the cabin adapter's view of the instrument."""
    bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    try:
        device = f"/org/bluez/{CABIN_ADAPTER}/dev_{PERIPHERAL_ADDRESS.replace(':', '_')}"
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path=device,
                interface="org.bluez.Device1",
                member="Disconnect",
            )
        )
        assert reply is not None and reply.message_type == MessageType.METHOD_RETURN
    finally:
        await close_bus(bus)


async def test_link_loss_then_reconnect_and_second_measurement(
    bluez: str, make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral, _, sink = await connected(make_peripheral, running, InstrumentKind.PULSE_OXIMETER)
    assert peripheral.send_spo2(97, 64)
    await poll(lambda: len(sink.finals()) == 1)

    await _disconnect_from_cabin_side(bluez)
    await poll(lambda: sink.current == "absent")
    assert sink.states[-1][1] == "liaison Bluetooth perdue"
    await poll(lambda: sink.current == "ready", limit_s=20)
    await poll(lambda: peripheral.is_subscribed(profiles.PLX_SPOT_CHECK))

    assert peripheral.send_spo2(95, 70)
    await poll(lambda: len(sink.finals()) == 2)
    assert values(sink.finals()[1])["59408-5"] == 95
    assert sink.states.count(("ready", "connecté", 87)) == 2


async def test_malformed_value_reports_error_and_link_keeps_running(
    make_peripheral: Callable[..., Any],
    running: Callable[[BleLink], RecordingSink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    peripheral, _, sink = await connected(make_peripheral, running, InstrumentKind.BLOOD_PRESSURE)
    caplog.set_level(logging.WARNING, logger="devices.ble.link")
    # flags announce a timestamp and a pulse rate that are not there
    assert peripheral.send(profiles.BLOOD_PRESSURE_MEASUREMENT, bytes((0x06, 0x80, 0x00)))
    await poll(lambda: sink.current == "error")
    assert sink.states[-1][1] == "valeur illisible reçue (0x2A35)"
    assert "undecodable value on 0x2A35 (3 bytes)" in caplog.text
    assert sink.measurements == []

    assert peripheral.send_blood_pressure(118, 76, 66)
    await poll(sink.finals)
    assert values(sink.finals()[0])["8462-4"] == 76
    assert sink.current == "ready"


async def test_device_without_the_configured_profile_is_an_error(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    _, _, sink = await connected(
        make_peripheral,
        running,
        InstrumentKind.BLOOD_PRESSURE,
        configured_as=InstrumentKind.THERMOMETER,
    )
    state, detail, _ = sink.states[-1]
    assert state == "error"
    assert "0x2A1C" in detail


def test_configuration_errors_are_specific() -> None:
    with pytest.raises(ValueError, match="needs 'address'"):
        BleLink(InstrumentSettings(name="t", kind=InstrumentKind.SCALE, transport="ble"))
    with pytest.raises(UnsupportedInstrumentError, match="otoscope"):
        BleLink(settings(InstrumentKind.OTOSCOPE))


async def test_glucose_stored_records_fetched_with_racp(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral = await make_peripheral(InstrumentKind.GLUCOMETER)
    # two records left in the meter's memory by earlier patients
    peripheral.store_glucose(151, datetime(2026, 11, 20, 8, 30))
    peripheral.store_glucose(88, datetime(2026, 11, 21, 9, 15))
    link = BleLink(settings(InstrumentKind.GLUCOMETER), adapter=CABIN_ADAPTER)
    sink = running(link)
    await poll(lambda: sink.current == "ready", limit_s=20)
    # the link learned the last record number without passing earlier records on
    assert peripheral.racp_requests == [racp.last_record().to_bytes()]
    assert sink.measurements == []

    # the patient pricks a finger; the doctor asks for the value
    peripheral.store_glucose(104, datetime(2026, 11, 23, 10, 5))
    assert await link.request_measurement() is True
    await poll(lambda: len(sink.measurements) == 1)
    [glucose] = sink.measurements
    assert peripheral.racp_requests[-1] == racp.RacpRequest.report_from(3).to_bytes()
    assert glucose.kind == "glucose"
    assert [(o.code, o.value, o.unit) for o in glucose.observations] == [
        ("2339-0", Decimal(104), "mg/dL")
    ]
    assert glucose.timestamp == datetime(2026, 11, 23, 10, 5)

    # nothing new: the meter answers "no records found", still a completed request
    assert await link.request_measurement() is True
    assert peripheral.racp_requests[-1] == racp.RacpRequest.report_from(4).to_bytes()
    assert len(sink.measurements) == 1
    assert sink.current == "ready"


async def test_glucometer_refusing_racp_gives_false(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral, link, sink = await connected(make_peripheral, running, InstrumentKind.GLUCOMETER)
    assert sink.current == "ready"
    peripheral.refuse_racp = True
    assert await link.request_measurement() is False
    assert sink.current == "ready"


async def test_instrument_switched_on_later_is_found_on_a_later_scan(
    make_peripheral: Callable[..., Any],
    running: Callable[[BleLink], RecordingSink],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(link_module, "SCAN_TIMEOUT_S", 0.3)
    sink = running(BleLink(settings(InstrumentKind.SCALE), adapter=CABIN_ADAPTER))
    await poll(lambda: sink.current == "absent")
    assert sink.states[-1][1] == "instrument introuvable (éteint ou hors de portée)"

    peripheral = await make_peripheral(InstrumentKind.SCALE)
    await poll(lambda: sink.current == "ready", limit_s=20)
    assert peripheral.send_weight("72.35")
    await poll(sink.finals)
    assert values(sink.finals()[0])["29463-7"] == Decimal("72.35")


EXPECTED_CODES = {
    InstrumentKind.BLOOD_PRESSURE: {"8480-6", "8462-4", "8478-0", "8867-4"},
    InstrumentKind.THERMOMETER: {"8310-5"},
    InstrumentKind.PULSE_OXIMETER: {"59408-5", "8867-4"},
    InstrumentKind.SCALE: {"29463-7"},
    InstrumentKind.BODY_COMPOSITION: {"41982-0"},
    InstrumentKind.HEART_RATE: {"8867-4"},
}


@pytest.mark.parametrize("kind", list(EXPECTED_CODES))
async def test_every_kind_demo_reading_reaches_the_cabin_decoded(
    kind: InstrumentKind,
    make_peripheral: Callable[..., Any],
    running: Callable[[BleLink], RecordingSink],
) -> None:
    peripheral, _, sink = await connected(make_peripheral, running, kind)
    assert sink.current == "ready"
    for uuid in profiles.profile_for(kind).subscribed:
        await poll(lambda uuid=uuid: peripheral.is_subscribed(uuid))
    await play_one_reading(peripheral, random.Random(7), step_s=0)
    await poll(sink.finals)
    final = sink.finals()[-1]
    assert {o.code for o in final.observations} >= EXPECTED_CODES[kind]
    assert all(o.value is not None for o in final.observations if o.code in EXPECTED_CODES[kind])


async def test_garbage_on_every_characteristic_never_stops_the_link(
    make_peripheral: Callable[..., Any], running: Callable[[BleLink], RecordingSink]
) -> None:
    peripheral, _, sink = await connected(make_peripheral, running, InstrumentKind.BLOOD_PRESSURE)
    rng = random.Random(2026)
    for _ in range(30):
        for uuid in (profiles.BLOOD_PRESSURE_MEASUREMENT, profiles.INTERMEDIATE_CUFF_PRESSURE):
            assert peripheral.send_garbage(uuid, rng, size=rng.randint(0, 12))
    assert peripheral.send_truncated(
        profiles.BLOOD_PRESSURE_MEASUREMENT, bytes((0x04,)) + bytes(8), keep=5
    )
    # bluezoo forwards values of different characteristics in any order but confirms each
    # one after forwarding it: once all are confirmed, the good value comes after them
    bp, cuff = profiles.BLOOD_PRESSURE_MEASUREMENT, profiles.INTERMEDIATE_CUFF_PRESSURE
    await poll(lambda: (peripheral.confirmations(bp), peripheral.confirmations(cuff)) == (31, 30))
    assert peripheral.send_blood_pressure(131, 84, 77)
    await poll(lambda: sink.finals() and values(sink.finals()[-1]).get("8480-6") == 131)
    assert sink.current == "ready"
    assert any(state == "error" for state, _, _ in sink.states)


async def test_cancelling_while_scanning_stops_cleanly(bluez: str) -> None:
    link = BleLink(settings(InstrumentKind.THERMOMETER), adapter=CABIN_ADAPTER)
    sink = RecordingSink()
    task = asyncio.create_task(link.run(sink))
    await poll(lambda: cabin_adapter_discovering(bluez))  # scanning, nothing around
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.states == []
