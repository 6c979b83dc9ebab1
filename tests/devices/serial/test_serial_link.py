"""The real serial transport (pyserial-asyncio-fast) against each simulator on a pty."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from devices import serial_link
from devices.config import InstrumentSettings
from devices.measurement import Measurement
from devices.serial_link import SerialLink
from devices.serialproto import PROTOCOLS, OximeterReading, Reading, contec, nonin, tanita
from devices.sim.serial_sim import SerialSimulator

from .conftest import WAIT_S, RecordingSink, StartRig

# Lines that always carry the scale's clock.
DATED = {"tanita-bc418", "tanita-kv"}


def readings_for(name: str, count: int) -> list[Reading]:
    if name.startswith("tanita"):
        readings = [
            tanita.body_reading(Decimal(700 + i) / 10, Decimal("22.5"), Decimal("171.0"))
            for i in range(count)
        ]
        if name in DATED:
            when = datetime(2026, 11, 23, 10, 42)
            return [dataclasses.replace(r, timestamp=when) for r in readings]
        return list(readings)
    return [OximeterReading(spo2=95 + i % 5, pulse=60 + i) for i in range(count)]


def is_subsequence(wanted: list[Measurement], got: list[Measurement]) -> bool:
    it = iter(got)
    return all(any(w == g for g in it) for w in wanted)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
async def test_each_simulator_is_read_by_the_link(rig: StartRig, name: str) -> None:
    r = await rig(name)
    await r.sink.state_is("ready")
    assert PROTOCOLS[name].line_settings in r.sink.states[-1][1]
    readings = readings_for(name, 3)
    for reading in readings:
        await r.sim.send_reading(reading)
    await r.sink.measurements_reach(3)
    assert r.sink.measurements == [x.measurement() for x in readings]
    assert r.link.skipped == r.link.bad_checksums == r.link.decode_errors == 0
    if name.startswith("nonin"):
        assert r.sim.commands[0] == PROTOCOLS[name].on_connect[0]  # format selection, ACKed
    if name == "contec-cms50d":
        assert r.sim.commands[0] == contec.START_LIVE


@pytest.mark.parametrize("name", ["contec-cms50d", "nonin-df2", "tanita-bc418"])
async def test_one_byte_at_a_time(rig: StartRig, name: str) -> None:
    r = await rig(name)
    r.sim.one_byte_at_a_time = True
    await r.sink.state_is("ready")
    readings = readings_for(name, 2)
    for reading in readings:
        await r.sim.send_reading(reading)
    await r.sink.measurements_reach(2)
    assert r.sink.measurements == [x.measurement() for x in readings]


@pytest.mark.parametrize("name", ["contec-cms50d", "contec-legacy", "nonin-df8", "tanita-tbf310"])
async def test_garbage_between_frames_is_skipped_and_counted(rig: StartRig, name: str) -> None:
    r = await rig(name)
    await r.sink.state_is("ready")
    readings = readings_for(name, 3)
    for reading in readings:
        await r.sim.send_garbage(40)
        if name.startswith("tanita"):
            await r.sim.send(b"\r\n")  # the scale's next line starts clean
        await r.sim.send_reading(reading)
    wanted = [x.measurement() for x in readings]
    # Sync-bit protocols can mistake noise for a frame (so would the device's own
    # software); every real frame must still come through, in order.
    await r.sink.until(lambda: is_subsequence(wanted, r.sink.measurements), "the 3 readings")
    assert r.link.skipped + r.link.decode_errors > 0
    await r.sink.until(lambda: "line noise" in r.sink.states[-1][1], "noise detail")
    assert r.sink.current == "ready"


async def test_a_bad_checksum_is_skipped_with_a_technician_detail(rig: StartRig) -> None:
    r = await rig("nonin-df2")
    await r.sink.state_is("ready")
    bad = bytearray(nonin.df2_encode(OximeterReading(91, 80)))
    bad[2 * 5 + 4] ^= 0x55  # frame 3 (SpO2) checksum
    await r.sim.send(bytes(bad))
    good = OximeterReading(97, 66)
    await r.sim.send_reading(good)
    await r.sink.measurements_reach(1)
    assert r.sink.measurements == [good.measurement()]
    assert r.link.bad_checksums == 1
    await r.sink.until(lambda: "1 bad checksum" in r.sink.states[-1][1], "checksum detail")


async def test_unplug_then_replug(rig: StartRig) -> None:
    r = await rig("contec-cms50d")
    await r.sink.state_is("ready")
    await r.sim.send_reading(OximeterReading(98, 70))
    await r.sink.measurements_reach(1)
    r.sim.unplug()
    await r.sink.state_is("absent")
    assert "unplugged" in r.sink.states[-1][1] or "cannot be opened" in r.sink.states[-1][1]
    r.sim.plug()
    await r.sink.state_is("ready")
    await r.sim.wait_command(1)  # the link starts the live stream again on the new port
    assert r.sim.commands[-1] == contec.START_LIVE
    await r.sim.send_reading(OximeterReading(96, 75))
    await r.sink.measurements_reach(2)
    assert r.sink.measurements[-1] == OximeterReading(96, 75).measurement()


async def test_a_missing_port_is_absent_until_it_appears(rig: StartRig) -> None:
    r = await rig("nonin-df8")
    await r.sink.state_is("ready")
    r.sim.unplug()
    await r.sink.until(lambda: "cannot be opened" in r.sink.states[-1][1], "open failure")
    assert r.sink.current == "absent"
    r.sim.plug()
    await r.sink.state_is("ready")
    await r.sim.send_reading(OximeterReading(94, 101))
    await r.sink.measurements_reach(1)


async def test_nonin_nak_is_an_error_state(rig: StartRig) -> None:
    r = await rig("nonin-df13", accepted_formats={8})
    await r.sink.state_is("error")
    assert "NAK" in r.sink.states[-1][1]
    assert nonin.parse_select_format(r.sim.commands[0]) == 13


async def test_request_measurement(rig: StartRig) -> None:
    c = await rig("contec-cms50d")
    n = await rig("nonin-df8")
    await c.sink.state_is("ready")
    await n.sink.state_is("ready")
    await c.sim.wait_command(1)
    assert await c.link.request_measurement() is True
    await c.sim.wait_command(2)
    assert c.sim.commands[1] == contec.START_LIVE
    assert await n.link.request_measurement() is False  # the patient puts a finger in


async def test_repeated_values_are_reported_once_a_second(rig: StartRig) -> None:
    r = await rig("contec-cms50d")
    await r.sink.state_is("ready")
    same = OximeterReading(97, 64)
    for _ in range(30):
        await r.sim.send_reading(same)
    await r.sim.send_reading(OximeterReading(97, 65))
    await r.sink.measurements_reach(2)
    assert [m.observations[1].value for m in r.sink.measurements] == [64, 65]


async def test_contec_keep_alives_are_sent(tmp_path: Path) -> None:
    quick = dataclasses.replace(PROTOCOLS["contec-cms50d"], keep_alive_s=0.05)
    sim = SerialSimulator(quick, tmp_path / "cms50.tty")
    await sim.start()
    settings = InstrumentSettings(
        name="oxy", kind="pulse_oximeter", transport="serial", protocol=quick.name,
        port=str(sim.link),
    )  # fmt: skip
    link = SerialLink(settings, quick)
    task = asyncio.create_task(link.run(RecordingSink()))
    try:
        await asyncio.wait_for(sim.wait_command(3), WAIT_S)
        assert sim.commands[0] == contec.START_LIVE
        assert sim.commands[1:3] == [contec.KEEP_ALIVE, contec.KEEP_ALIVE]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sim.stop()


async def test_dropped_bytes_lose_frames_not_the_link(rig: StartRig) -> None:
    r = await rig("nonin-df8")
    await r.sink.state_is("ready")
    r.sim.drop_rate = 0.05
    readings = [OximeterReading(90 + i % 10, 50 + i) for i in range(200)]
    for reading in readings:
        await r.sim.send_reading(reading)
    r.sim.drop_rate = 0.0
    last = OximeterReading(99, 49)
    await r.sim.send_reading(last)
    await r.sink.until(lambda: r.sink.measurements[-1:] == [last.measurement()], "last reading")
    wanted = [x.measurement() for x in readings]
    intact = [m for m in r.sink.measurements if m in wanted]
    assert 100 < len(intact) < 200  # most frames survive, the damaged ones are skipped
    assert r.link.skipped > 0 and r.sink.current == "ready"


async def test_a_silent_streaming_device_is_absent_then_back(
    rig: StartRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serial_link, "SILENCE_S", 0.2)
    r = await rig("contec-cms50d")
    await r.sink.state_is("ready")
    await r.sink.state_is("absent")  # switched off: the port is there, the data is not
    assert "silent" in r.sink.states[-1][1]
    await r.sim.wait_command(2)  # the link asks it to stream again
    assert r.sim.commands[1] == contec.START_LIVE
    await r.sim.send_reading(OximeterReading(97, 80))
    await r.sink.state_is("ready")
    await r.sink.measurements_reach(1)


async def test_nonin_without_an_answer_goes_on_after_the_ack_timeout(
    rig: StartRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serial_link, "ACK_TIMEOUT_S", 0.2)
    r = await rig("nonin-df8", answers_commands=False)
    await r.sink.state_is("ready")  # a fixed-format firmware stays silent: read anyway
    assert len(r.sim.commands) == 1
    await r.sim.send_reading(OximeterReading(95, 88))
    await r.sink.measurements_reach(1)


async def test_a_streaming_simulator_with_noise_bursts(rig: StartRig) -> None:
    r = await rig("contec-cms50d", stream=True)
    r.sim.garbage_every = 3
    await r.sink.state_is("ready")
    await r.sink.until(lambda: r.link.frames >= 30 and r.link.skipped > 0, "30 frames, noise")
    assert r.sink.measurements  # values drift once a second; the first one is reported
    assert all(m.kind == "spo2" for m in r.sink.measurements)
    assert r.sink.current == "ready"
