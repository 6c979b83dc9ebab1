"""Realistic readings from a simulated BLE instrument, for the demo and manual tests.

``python -m devices.sim.ble_demo --kind blood_pressure --adapter hci1`` registers a
simulated instrument on that adapter of the bus at DBUS_SYSTEM_BUS_ADDRESS (bluezoo, or
a real BlueZ whose adapter can act as a peripheral) and plays a reading every few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from datetime import datetime

from devices.config import InstrumentKind
from devices.sim.ble_peripheral import SimulatedBlePeripheral

log = logging.getLogger(__name__)

# Between two steps of a cuff inflation or a thermometer's rising reading.
STEP_S = 0.2


async def play_one_reading(
    peripheral: SimulatedBlePeripheral, rng: random.Random, step_s: float = STEP_S
) -> None:
    """What one patient's measurement looks like on the air for ``peripheral.kind``."""
    kind = peripheral.kind
    if kind is InstrumentKind.BLOOD_PRESSURE:
        systolic = rng.randint(105, 150)
        diastolic = rng.randint(62, min(95, systolic - 25))
        for pressure in range(20, systolic + 30, 40):  # the cuff inflating
            peripheral.send_cuff_pressure(pressure)
            await asyncio.sleep(step_s)
        peripheral.send_blood_pressure(systolic, diastolic, rng.randint(55, 95), datetime.now())
    elif kind is InstrumentKind.THERMOMETER:
        final = rng.randint(361, 382)
        for tenth in (final - 12, final - 5, final - 1):
            peripheral.send_intermediate_temperature(f"{tenth / 10:.1f}")
            await asyncio.sleep(step_s)
        peripheral.send_temperature(f"{final / 10:.1f}", datetime.now())
    elif kind is InstrumentKind.PULSE_OXIMETER:
        for _ in range(3):
            peripheral.send_spo2_continuous(rng.randint(94, 99), rng.randint(58, 92))
            await asyncio.sleep(step_s)
        peripheral.send_spo2(rng.randint(95, 99), rng.randint(58, 92))
    elif kind is InstrumentKind.SCALE:
        peripheral.send_weight(f"{rng.randint(4800, 11000) / 100:.2f}")
    elif kind is InstrumentKind.BODY_COMPOSITION:
        peripheral.send_body_fat(f"{rng.randint(120, 350) / 10:.1f}")
    elif kind is InstrumentKind.HEART_RATE:
        peripheral.send_heart_rate(rng.randint(55, 100))
    elif kind is InstrumentKind.GLUCOMETER:
        # stored in the meter; the cabin downloads it (RACP) when asked
        peripheral.store_glucose(rng.randint(72, 160), datetime.now())


async def play(
    peripheral: SimulatedBlePeripheral, rng: random.Random, period_s: float = 10.0
) -> None:
    """A reading every ``period_s`` until cancelled; the battery slowly runs down."""
    while True:
        await asyncio.sleep(period_s)
        await play_one_reading(peripheral, rng)
        peripheral.set_battery(max(5, peripheral.battery - 1))


async def _main(kind: InstrumentKind, adapter: str, period_s: float, seed: int | None) -> None:
    peripheral = SimulatedBlePeripheral(kind, adapter=adapter)
    await peripheral.start()
    log.info("simulated %s on %s", kind.value, adapter)
    try:
        await play(peripheral, random.Random(seed), period_s)
    finally:
        await peripheral.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", type=InstrumentKind, default=InstrumentKind.BLOOD_PRESSURE)
    parser.add_argument("--adapter", default="hci1")
    parser.add_argument("--period", type=float, default=10.0, help="seconds between readings")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.kind, args.adapter, args.period, args.seed))


if __name__ == "__main__":
    main()
