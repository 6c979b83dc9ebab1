"""A recording of each simulated serial instrument, taken through the real link's tap,
replays to the same readings (and the same line-noise counts) as the live run."""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import pytest

from devices.capture import CaptureHeader, CaptureWriter, read_capture
from devices.config import InstrumentSettings
from devices.replay import replay
from devices.serial_link import SerialLink
from devices.serialproto import PROTOCOLS
from devices.sim.serial_sim import SerialSimulator

from .conftest import RecordingSink
from .test_serial_link import readings_for

READINGS = 3


async def record_live(
    tmp_path: Path, name: str, *, noise: bool = False, one_byte: bool = False
) -> tuple[RecordingSink, SerialLink, Path]:
    proto = PROTOCOLS[name]
    sim = SerialSimulator(proto, tmp_path / f"{name}.tty", seed=5)
    sim.one_byte_at_a_time = one_byte
    await sim.start()
    out = tmp_path / f"{name}.jsonl"
    header = CaptureHeader("live", proto.kind.value, "serial", name, proto.line_settings)
    writer = CaptureWriter(out, header)
    settings = InstrumentSettings(name="live", kind=proto.kind, transport="serial",
                                  protocol=name, port=str(sim.link))  # fmt: skip
    link, sink = SerialLink(settings, tap=writer), RecordingSink()
    task = asyncio.create_task(link.run(sink), name=f"live-{name}")
    rng = random.Random(11)
    try:
        await sink.state_is("ready")
        for reading in readings_for(name, READINGS):
            if noise:
                await sim.send(rng.randbytes(24) + b"\r\n")  # a burst, then a line break
            await sim.send_reading(reading)
        # (noise can pass for a frame of a sync-bit protocol: at least the readings come)
        await sink.measurements_reach(READINGS)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sim.stop()
        writer.close()
    return sink, link, out


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
async def test_a_recording_replays_to_the_live_readings(tmp_path: Path, name: str) -> None:
    sink, link, out = await record_live(tmp_path, name)
    capture = read_capture(out)
    assert capture.header.protocol == name
    if PROTOCOLS[name].on_connect:
        assert capture.events[0].op == "out"  # the link's connect command comes first
    result = await replay(capture, speed=1)
    assert result.measurements == sink.measurements
    assert result.counters["frames"] == link.frames


@pytest.mark.parametrize("name", ["contec-legacy", "nonin-df2", "nonin-df13", "tanita-kv"])
async def test_noise_and_slow_bytes_replay_the_same(tmp_path: Path, name: str) -> None:
    sink, link, out = await record_live(tmp_path, name, noise=True, one_byte=name == "nonin-df2")
    result = await replay(read_capture(out), speed=1)
    assert result.measurements == sink.measurements
    live = {"skipped_bytes": link.skipped, "bad_checksums": link.bad_checksums,
            "undecodable": link.decode_errors}  # fmt: skip
    assert {k: result.counters[k] for k in live} == live
    assert link.skipped + link.decode_errors > 0
