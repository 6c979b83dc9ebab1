"""Serial instruments: latency from a frame's last byte written on the pty master to the
MeasurementTaken event on the daemon's bus (simulator → pty → pyserial-asyncio-fast →
framer → decoder → supervisor → bus), and framer+decoder throughput.

    .venv/bin/python bench/bench_serial_latency.py [--frames 1000]

Prints figures; asserts nothing about time."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from devices.config import InstrumentKind, InstrumentSettings
from devices.serialproto import PROTOCOLS, OximeterReading, Reading
from devices.sim.serial_sim import SerialSimulator
from devices.supervisor import InstrumentSupervisor
from hub.shared.tasks import TaskSupervisor
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus
from kiosk.component import Context
from kiosk.events import InstrumentStateChanged, MeasurementTaken
from kiosk.lifecycle import Lifecycle, LifecycleStore
from kiosk.settings import CabinSettings

LATENCY_PROTOCOLS = ("contec-cms50d", "contec-legacy", "nonin-df8", "nonin-df2")
EVENT_TIMEOUT_S = 5.0


def _context(state_dir: Path, port: Path, protocol: str) -> Context:
    settings = CabinSettings.model_validate(
        {
            "site": {"cabin_id": "bench", "name": "Bench", "address": "bench"},
            "storage": {"state_dir": str(state_dir)},
            "instruments": [
                InstrumentSettings(
                    name="oxy",
                    kind=InstrumentKind.PULSE_OXIMETER,
                    transport="serial",
                    protocol=protocol,
                    port=str(port),
                ).model_dump()
            ],
        }
    )
    state_dir.mkdir(parents=True, exist_ok=True)
    bus = EventBus()
    return Context(
        settings=settings,
        bus=bus,
        lifecycle=Lifecycle(LifecycleStore(settings.storage.database), bus),
        appointments=AppointmentStore(settings.storage.database),
        tasks=TaskSupervisor(),
    )


def _reading(i: int) -> OximeterReading:
    # Consecutive readings differ, so the link reports every one of them.
    return OximeterReading(spo2=90 + i % 10, pulse=50 + i % 100, pleth=i % 128)


async def latency(protocol: str, frames: int, tmp: Path) -> list[float]:
    sim = SerialSimulator(PROTOCOLS[protocol], tmp / f"{protocol}.tty", seed=1)
    await sim.start()
    ctx = _context(tmp / protocol, sim.link, protocol)
    supervisor = InstrumentSupervisor(ctx)
    states = ctx.bus.subscribe(InstrumentStateChanged)
    taken = ctx.bus.subscribe(MeasurementTaken)
    await supervisor.start()
    try:
        async with asyncio.timeout(EVENT_TIMEOUT_S):
            while (await states.get()).state != "ready":
                pass
        samples = []
        for i in range(frames):
            frame = PROTOCOLS[protocol].encode(_reading(i))
            sim._write(frame)  # straight to the pty master: the last byte is out now
            written = time.perf_counter()
            async with asyncio.timeout(EVENT_TIMEOUT_S):
                await taken.get()
            samples.append(time.perf_counter() - written)
        return samples
    finally:
        await supervisor.stop()
        await ctx.tasks.cancel_all(grace_s=2.0)
        await sim.stop()
        ctx.appointments.close()
        ctx.lifecycle.store.close()


def throughput(protocol: str, count: int) -> tuple[float, float, int]:
    proto = PROTOCOLS[protocol]
    rng = random.Random(7)
    readings: list[Reading] = [proto.sample(rng) for _ in range(count)]
    stream = b"".join(proto.encode(r) for r in readings)
    framer = proto.framer()
    started = time.perf_counter()
    decoded = 0
    for i in range(0, len(stream), 4096):
        for frame in framer.feed(stream[i : i + 4096]):
            proto.decode(frame)
            decoded += 1
    elapsed = time.perf_counter() - started
    return decoded / elapsed, len(stream) / elapsed / 1e6, decoded


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--throughput-frames", type=int, default=100_000)
    args = parser.parse_args()
    print(
        f"latency: last byte on the pty master -> MeasurementTaken on the bus, {args.frames} frames"
    )
    with tempfile.TemporaryDirectory(prefix="bench-serial-") as tmp:
        for name in LATENCY_PROTOCOLS:
            s = await latency(name, args.frames, Path(tmp))
            print(
                f"  {name:<14} p50 {_pct(s, 0.5):6.3f} ms  p99 {_pct(s, 0.99):6.3f} ms  "
                f"max {max(s) * 1e3:6.3f} ms  mean {statistics.fmean(s) * 1e3:6.3f} ms"
            )
    print(f"framer + decoder throughput ({args.throughput_frames} frames each, one core)")
    for name in sorted(PROTOCOLS):
        fps, mbps, _n = throughput(name, args.throughput_frames)
        print(f"  {name:<14} {fps:>10,.0f} frames/s  {1e6 / fps:6.2f} µs/frame  {mbps:6.2f} MB/s")


if __name__ == "__main__":
    asyncio.run(main())
