"""Transport "simulated": an instrument without any I/O, for the demo and the tests.

It reports "ready" with a battery level, gives a first realistic reading shortly after
it starts (so the demo's /api/status shows live values), and takes a new measurement on
each request_measurement() (blood pressure with a few intermediate cuff pressures first,
like a real cuff inflating)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from devices import coding
from devices.config import InstrumentKind, InstrumentSettings
from devices.link import InstrumentLink, LinkSink
from devices.measurement import Measurement, Observation

# The first reading comes this long after the link starts (the demo's "live" values).
FIRST_READING_S = 0.3
# A simulated cuff inflates in this many steps, this long each (1.2 s in all).
CUFF_STEPS = 4
CUFF_STEP_S = 0.3
BATTERY_PERCENT = 87

# Camera-like instruments give pictures (through the call), not measurements.
NO_MEASUREMENT = {InstrumentKind.OTOSCOPE, InstrumentKind.DERMATOSCOPE, InstrumentKind.STETHOSCOPE}


def _d(value: float | int, places: int = 0) -> Decimal:
    return Decimal(str(round(value, places))) if places else Decimal(int(value))


def _blood_pressure(rng: random.Random) -> tuple[str, tuple[Observation, ...]]:
    systolic, diastolic = rng.randint(112, 138), rng.randint(68, 86)
    mean = round(diastolic + (systolic - diastolic) / 3)
    return "blood_pressure", (
        coding.obs(coding.SYSTOLIC, _d(systolic)),
        coding.obs(coding.DIASTOLIC, _d(diastolic)),
        coding.obs(coding.MEAN_ARTERIAL, _d(mean)),
        coding.obs(coding.PULSE_RATE, _d(rng.randint(58, 88))),
    )


_Generator = Callable[[random.Random], tuple[str, tuple[Observation, ...]]]

# A realistic reading of an adult at rest, per kind.
_GENERATORS: dict[InstrumentKind, _Generator] = {
    InstrumentKind.BLOOD_PRESSURE: _blood_pressure,
    InstrumentKind.THERMOMETER: lambda rng: (
        "temperature",
        (coding.obs(coding.BODY_TEMPERATURE, _d(rng.uniform(36.3, 37.3), 1)),),
    ),
    InstrumentKind.PULSE_OXIMETER: lambda rng: (
        "spo2",
        (
            coding.obs(coding.SPO2, _d(rng.randint(95, 99))),
            coding.obs(coding.PULSE_RATE, _d(rng.randint(58, 88))),
        ),
    ),
    InstrumentKind.SCALE: lambda rng: (
        "weight",
        (coding.obs(coding.BODY_WEIGHT, _d(rng.uniform(52, 98), 1)),),
    ),
    InstrumentKind.BODY_COMPOSITION: lambda rng: (
        "body_composition",
        (
            coding.obs(coding.BODY_WEIGHT, _d(rng.uniform(52, 98), 1)),
            coding.obs(coding.BODY_FAT, _d(rng.uniform(14, 36), 1)),
        ),
    ),
    InstrumentKind.GLUCOMETER: lambda rng: (
        "glucose",
        (coding.obs(coding.GLUCOSE_MASS, _d(rng.randint(82, 126))),),
    ),
    InstrumentKind.HEART_RATE: lambda rng: (
        "heart_rate",
        (coding.obs(coding.PULSE_RATE, _d(rng.randint(58, 88))),),
    ),
}


def simulated_measurement(kind: InstrumentKind, rng: random.Random) -> Measurement | None:
    """A realistic reading for ``kind`` (None for cameras, which give pictures)."""
    generator = _GENERATORS.get(kind)
    if generator is None:
        return None
    name, observations = generator(rng)
    return Measurement(name, observations, datetime.now(UTC).replace(microsecond=0))


class SimulatedLink(InstrumentLink):
    def __init__(
        self,
        settings: InstrumentSettings,
        *,
        seed: int | None = None,
        battery: int = BATTERY_PERCENT,
    ) -> None:
        super().__init__(settings)
        self.rng = random.Random(seed)
        self.battery = battery  # a test or a demo can make it low
        self._requests: asyncio.Queue[None] = asyncio.Queue()
        self.measurements_taken = 0

    async def run(self, sink: LinkSink) -> None:
        kind = self.settings.kind
        sink.state("ready", "simulated instrument", self.battery)
        if kind in NO_MEASUREMENT:
            await asyncio.Event().wait()  # nothing to do until cancelled
        await asyncio.sleep(FIRST_READING_S)
        await self._measure(sink)
        while True:
            await self._requests.get()
            await self._measure(sink)

    async def request_measurement(self) -> bool:
        if self.settings.kind in NO_MEASUREMENT:
            return False
        self._requests.put_nowait(None)
        return True

    async def _measure(self, sink: LinkSink) -> None:
        measurement = simulated_measurement(self.settings.kind, self.rng)
        if measurement is None:
            return
        if self.settings.kind is InstrumentKind.BLOOD_PRESSURE:
            sink.state("measuring", "simulated cuff inflating", self.battery)
            for step in range(1, CUFF_STEPS + 1):
                await asyncio.sleep(CUFF_STEP_S)
                pressure = _d(40 * step)
                sink.measurement(
                    Measurement(
                        "cuff_pressure",
                        (coding.obs(coding.CUFF_PRESSURE, pressure),),
                        intermediate=True,
                    )
                )
        self.measurements_taken += 1
        sink.measurement(measurement)
        sink.state("ready", "simulated instrument", self.battery)
