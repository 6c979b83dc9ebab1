"""The "instruments" component through a real daemon context (SQLite lifecycle, bus,
task supervisor) and through the in-process daemon's HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from devices.factory import make_link
from devices.link import InstrumentLink, LinkSink
from devices.serialproto import OximeterReading, protocol
from devices.sim.serial_sim import SerialSimulator
from devices.sim.simulated_link import SimulatedLink
from devices.supervisor import InstrumentSupervisor
from hub.shared.tasks import TaskSupervisor
from kiosk.appointments import AppointmentStore
from kiosk.bus import Event, EventBus, Subscription
from kiosk.component import Context
from kiosk.daemon import Daemon
from kiosk.events import (
    InstrumentStateChanged,
    MeasurementRequested,
    MeasurementTaken,
    PatientInstruction,
)
from kiosk.lifecycle import Lifecycle, LifecycleStore, State
from kiosk.settings import CabinSettings, load_settings
from kiosk.ui_auth import HEADER
from tests.cabin_toml import SIMULATED_INSTRUMENTS, base_toml

WAIT_S = 10.0
E = TypeVar("E", bound=Event)

SIMULATED = SIMULATED_INSTRUMENTS


def write_settings(tmp_path: Path, instruments: str) -> CabinSettings:
    path = tmp_path / "cabin.toml"
    path.write_text(
        base_toml(tmp_path / "state", cabin_id="test-devices") + instruments, encoding="utf-8"
    )
    return load_settings(path)


class Harness:
    def __init__(self, ctx: Context, supervisor: InstrumentSupervisor) -> None:
        self.ctx, self.supervisor = ctx, supervisor

    async def next_event(self, sub: Subscription[E], match: Callable[[E], bool]) -> E:
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await sub.get()
                if match(event):
                    return event

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            while not condition():  # noqa: ASYNC110 - bounded poll of a status dict
                await asyncio.sleep(0.01)


Start = Callable[..., Any]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Start]:
    made: list[Harness] = []

    async def start(instruments: str, link_factory: Any = make_link) -> Harness:
        settings = write_settings(tmp_path, instruments)
        settings.storage.state_dir.mkdir(parents=True, exist_ok=True)
        bus = EventBus()
        ctx = Context(
            settings=settings,
            bus=bus,
            lifecycle=Lifecycle(LifecycleStore(settings.storage.database), bus),
            appointments=AppointmentStore(settings.storage.database),
            tasks=TaskSupervisor(),
            ui_token="ui-secret",
        )
        supervisor = InstrumentSupervisor(ctx, link_factory)
        h = Harness(ctx, supervisor)
        made.append(h)
        return h

    yield start
    for h in made:
        await h.supervisor.stop()
        await h.ctx.tasks.cancel_all(grace_s=2.0)
        h.ctx.appointments.close()
        h.ctx.lifecycle.store.close()


async def test_simulated_instruments_become_ready_with_a_first_reading(harness: Start) -> None:
    h = await harness(SIMULATED)
    taken = h.ctx.bus.subscribe(MeasurementTaken)
    states = h.ctx.bus.subscribe(InstrumentStateChanged)
    await h.supervisor.start()
    first = await h.next_event(states, lambda e: e.instrument == "oxymetre")
    assert first.state == "ready" and first.battery_percent == 87 and first.kind == "pulse_oximeter"
    seen: dict[str, Any] = {}
    while len(seen) < 2:
        event = await h.next_event(taken, lambda e: not e.measurement.intermediate)
        seen[event.instrument] = event.measurement
    assert {"thermometre", "oxymetre"} <= set(seen)
    temperature = seen["thermometre"].observations[0]
    assert temperature.code == "8310-5" and temperature.unit == "Cel"
    assert 36 <= temperature.value <= 38
    await h.until(lambda: h.supervisor.instrument_status("tensiometre")["last"] is not None)
    status = h.supervisor.status()
    assert [i["name"] for i in status] == ["tensiometre", "thermometre", "oxymetre"]
    bp = status[0]
    assert bp["kind"] == "blood_pressure" and bp["transport"] == "simulated"
    assert bp["state"] == "ready" and bp["battery_percent"] == 87
    assert [o["code"] for o in bp["last"]["observations"]] == [
        "8480-6",
        "8462-4",
        "8478-0",
        "8867-4",
    ]
    assert bp["last_measurement_at"] is not None


async def test_a_request_gives_a_measurement_recorded_in_the_session(harness: Start) -> None:
    h = await harness(SIMULATED)
    await h.supervisor.start()
    await h.until(lambda: all(i["last"] for i in h.supervisor.status()))
    h.ctx.lifecycle.transition(State.CHECK_IN, "patient")
    session = h.ctx.lifecycle.session_id
    assert session is not None
    # A new patient sees nothing of the readings taken before them.
    await h.until(lambda: all(i["last"] is None for i in h.supervisor.status()))
    taken = h.ctx.bus.subscribe(MeasurementTaken)
    h.ctx.bus.publish(MeasurementRequested(instrument="tensiometre"))
    cuff = await h.next_event(taken, lambda e: e.instrument == "tensiometre")
    assert cuff.measurement.intermediate and cuff.measurement.kind == "cuff_pressure"
    assert h.ctx.lifecycle.store.session(session).instruments_used == ()  # type: ignore[union-attr]
    final = await h.next_event(
        taken, lambda e: e.instrument == "tensiometre" and not e.measurement.intermediate
    )
    assert final.measurement.kind == "blood_pressure"
    record = h.ctx.lifecycle.store.session(session)
    assert record is not None and record.instruments_used == ("tensiometre",)


async def test_an_instrument_that_cannot_start_tells_the_patient(
    harness: Start, tmp_path: Path
) -> None:
    camera = tmp_path / "video7"
    camera.touch()
    h = await harness(
        f'[[instruments]]\nname = "otoscope"\nkind = "otoscope"\ntransport = "usb_camera"\n'
        f'port = "{camera}"\n'
    )
    states = h.ctx.bus.subscribe(InstrumentStateChanged)
    await h.supervisor.start()
    assert (await h.next_event(states, lambda e: True)).state == "ready"
    instructions = h.ctx.bus.subscribe(PatientInstruction)
    h.ctx.bus.publish(MeasurementRequested(instrument="otoscope"))
    instruction = await h.next_event(instructions, lambda e: True)
    assert instruction.source == "instrument" and instruction.instrument == "otoscope"
    assert "otoscope" in instruction.text and "médecin" in instruction.text
    assert await h.supervisor.measure("nope") is None  # unknown: logged, nothing else


class CrashOnce(InstrumentLink):
    runs = 0

    async def run(self, sink: LinkSink) -> None:
        CrashOnce.runs += 1
        if CrashOnce.runs == 1:
            raise RuntimeError("driver bug")
        sink.state("ready", "second life")
        await asyncio.Event().wait()


async def test_a_link_that_raises_is_restarted(harness: Start) -> None:
    CrashOnce.runs = 0
    h = await harness(
        '[[instruments]]\nname = "tensiometre"\nkind = "blood_pressure"\ntransport = "ble"\n'
        'address = "AA:BB:CC:DD:EE:FF"\n',
        CrashOnce,
    )
    states = h.ctx.bus.subscribe(InstrumentStateChanged)
    await h.supervisor.start()
    error = await h.next_event(states, lambda e: True)
    assert error.state == "error" and "RuntimeError: driver bug" in error.detail
    assert "restarting" in error.detail
    again = await h.next_event(states, lambda e: True)
    assert (again.state, again.detail) == ("ready", "second life")
    assert CrashOnce.runs == 2
    assert h.supervisor.instruments["tensiometre"].restarts == 1
    assert h.ctx.tasks.crashed == 0  # the supervisor loop itself never died


async def test_a_serial_oximeter_on_a_pty_through_the_supervisor(
    harness: Start, tmp_path: Path
) -> None:
    link = tmp_path / "usb-Contec_CMS50D-if00"
    sim = SerialSimulator(protocol("contec-cms50d"), link, seed=3)
    await sim.start()
    try:
        h = await harness(
            '[[instruments]]\nname = "oxymetre"\nkind = "pulse_oximeter"\ntransport = "serial"\n'
            f'protocol = "contec-v7"\nport = "{link}"\n'
        )
        states = h.ctx.bus.subscribe(InstrumentStateChanged)
        taken = h.ctx.bus.subscribe(MeasurementTaken)
        await h.supervisor.start()
        await h.next_event(states, lambda e: e.state == "ready")
        await sim.send_reading(OximeterReading(spo2=96, pulse=71))
        event = await h.next_event(taken, lambda e: True)
        assert event.measurement == OximeterReading(96, 71).measurement()
        assert await h.supervisor.measure("oxymetre") is True  # Contec: "start live" sent
    finally:
        await sim.stop()


async def test_http_routes(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, SIMULATED)
    daemon = Daemon(settings)
    ctx = await daemon.start()
    try:
        requests = ctx.bus.subscribe(MeasurementRequested)
        async with aiohttp.ClientSession(base_url=daemon.url) as http:
            async with http.get("/api/instruments") as resp:
                assert resp.status == 200
                body = await resp.json()
            assert [i["name"] for i in body] == ["tensiometre", "thermometre", "oxymetre"]
            assert all(i["state"] in ("absent", "ready", "measuring") for i in body)
            async with http.get("/api/status") as resp:
                status = (await resp.json())["instruments"]
            assert [i["name"] for i in status] == [i["name"] for i in body]
            async with http.post("/api/instruments/tensiometre/measure") as resp:
                assert resp.status == 401
            token = {HEADER: ctx.ui_token}
            async with http.post("/api/instruments/nope/measure", headers=token) as resp:
                assert resp.status == 404
            assert requests.get_nowait() is None  # refused requests changed nothing
            async with http.post("/api/instruments/tensiometre/measure", headers=token) as resp:
                assert resp.status == 202
            event = requests.get_nowait()
            assert event is not None and event.instrument == "tensiometre"
    finally:
        await daemon.stop()


async def test_a_low_battery_shows_in_the_state(harness: Start) -> None:
    h = await harness(
        '[[instruments]]\nname = "thermometre"\nkind = "thermometer"\ntransport = "simulated"\n',
        lambda settings: SimulatedLink(settings, battery=9),
    )
    states = h.ctx.bus.subscribe(InstrumentStateChanged)
    await h.supervisor.start()
    event = await h.next_event(states, lambda e: True)
    assert (event.state, event.battery_percent) == ("low_battery", 9)
    assert h.supervisor.instrument_status("thermometre")["state"] == "low_battery"
