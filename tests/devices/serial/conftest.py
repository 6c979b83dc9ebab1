"""A sink that records what a link reports, and a running link against a simulator."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from devices.config import InstrumentSettings
from devices.measurement import Measurement
from devices.serial_link import SerialLink
from devices.serialproto import PROTOCOLS
from devices.sim.serial_sim import SerialSimulator
from kiosk.events import InstrumentState

# Bound on every wait for something the link should do "at once" on a quiet machine.
WAIT_S = 10.0


class RecordingSink:
    def __init__(self) -> None:
        self.states: list[tuple[InstrumentState, str]] = []
        self.measurements: list[Measurement] = []
        self._changed = asyncio.Event()

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        self.states.append((state, detail))
        self._changed.set()

    def measurement(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)
        self._changed.set()

    @property
    def current(self) -> InstrumentState | None:
        return self.states[-1][0] if self.states else None

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        assert condition(), what

    async def state_is(self, state: InstrumentState) -> None:
        await self.until(lambda: self.current == state, f"state {state}")

    async def measurements_reach(self, count: int) -> None:
        await self.until(lambda: len(self.measurements) >= count, f"{count} measurements")


class Rig:
    def __init__(self, sim: SerialSimulator, link: SerialLink, sink: RecordingSink) -> None:
        self.sim, self.link, self.sink = sim, link, sink


StartRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[StartRig]:
    started: list[tuple[SerialSimulator, asyncio.Task[None]]] = []

    async def start(name: str, **sim_options: object) -> Rig:
        path = tmp_path / f"{name}.tty"
        sim = SerialSimulator(PROTOCOLS[name], path, seed=1, **sim_options)  # type: ignore[arg-type]
        await sim.start()
        settings = InstrumentSettings(
            name="oxy", kind=PROTOCOLS[name].kind, transport="serial", protocol=name, port=str(path)
        )
        link = SerialLink(settings)
        sink = RecordingSink()
        task = asyncio.create_task(link.run(sink), name=f"link-{name}")
        started.append((sim, task))
        return Rig(sim, link, sink)

    yield start
    for sim, task in started:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sim.stop()
