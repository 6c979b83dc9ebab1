"""Decoder throughput: frames/s and µs/frame for each GATT characteristic (and SFLOAT).

Run: .venv/bin/python bench/bench_decoders.py [--frames 100000]
Each frame is a full value (every optional field present), built by the encoders, decoded
by ``devices.gatt.decode`` (bytes -> Measurement / context / RACP response / battery).
Prints figures only; the machine is shared, so compare rows within one run."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from devices import gatt
from devices.gatt.glucose_context import Carbohydrate, Exercise, GlucoseContext, Medication
from devices.gatt.racp import ResponseCode, ResponseValue
from devices.ieee11073 import decode_sfloat

WHEN = datetime(2024, 5, 1, 8, 30)
STATUS = frozenset({"irregular_pulse"})


def sample_frames() -> dict[str, tuple[int, bytes]]:
    """A representative full value per characteristic: name -> (uuid, bytes)."""
    bp = gatt.BloodPressureFrame(Decimal(120), Decimal(80), Decimal(93), False, WHEN,
                                 Decimal(72), 1, STATUS)  # fmt: skip
    return {
        "0x2A35 blood pressure": (0x2A35, bp.to_bytes()),
        "0x2A35 bp, quirky model": (
            0x2A35,
            bp.to_bytes(gatt.KNOWN_QUIRKS),
        ),
        "0x2A36 cuff pressure": (0x2A36, gatt.BloodPressureFrame(Decimal(150)).to_bytes()),
        "0x2A1C temperature": (
            0x2A1C,
            gatt.TemperatureFrame(Decimal("36.7"), False, WHEN, "tympanum").to_bytes(),
        ),
        "0x2A5E PLX spot-check": (
            0x2A5E,
            gatt.PlxSpotCheckFrame(
                Decimal(98),
                Decimal(72),
                WHEN,
                False,
                frozenset({"validated_data"}),
                frozenset({"low_perfusion"}),
                Decimal("2.5"),
            ).to_bytes(),
        ),
        "0x2A5F PLX continuous": (
            0x2A5F,
            gatt.PlxContinuousFrame(
                Decimal(98),
                Decimal(72),
                (Decimal(97), Decimal(71)),
                (Decimal(96), Decimal(70)),
                frozenset(),
                frozenset(),
                Decimal("2.5"),
            ).to_bytes(),
        ),
        "0x2A9D weight": (
            0x2A9D,
            gatt.WeightFrame(
                Decimal("70.5"), False, WHEN, 1, Decimal("23.0"), Decimal("1.750")
            ).to_bytes(),
        ),
        "0x2A9C body composition": (
            0x2A9C,
            gatt.BodyCompositionFrame(
                Decimal("22.5"),
                False,
                WHEN,
                1,
                Decimal(6900),
                Decimal("40.1"),
                Decimal(30),
                Decimal(55),
                Decimal(50),
                Decimal(40),
                Decimal("500.5"),
                Decimal("70.5"),
                Decimal("1.750"),
            ).to_bytes(),
        ),
        "0x2A18 glucose": (
            0x2A18,
            gatt.GlucoseFrame(
                7,
                WHEN,
                -5,
                Decimal("0.0055"),
                True,
                "capillary_plasma",
                "finger",
                frozenset({"device_battery_low"}),
            ).to_bytes(),
        ),
        "0x2A34 glucose context": (
            0x2A34,
            GlucoseContext(
                7,
                0,
                Carbohydrate("breakfast", Decimal("0.05")),
                "preprandial",
                "self",
                "no_health_issues",
                Exercise(1800, 50),
                Medication("rapid_acting_insulin", Decimal("0.004"), True),
                Decimal("6.5"),
            ).to_bytes(),
        ),
        "0x2A52 RACP response": (0x2A52, ResponseCode(1, ResponseValue.SUCCESS).to_bytes()),
        "0x2A37 heart rate": (
            0x2A37,
            gatt.HeartRateFrame(72, False, True, 300, (Decimal(1), Decimal("0.5"))).to_bytes(),
        ),
        "0x2A19 battery level": (0x2A19, gatt.encode_battery_level(87)),
    }


def timed(count: int, work: Callable[[], object]) -> float:
    """Seconds for ``count`` calls (best of 3 runs, to dampen a noisy shared machine)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(count):
            work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames per row")
    count = parser.parse_args().frames
    print(
        f"decoder throughput, {count} frames per row, best of 3 (Python {sys.version.split()[0]})"
    )
    print(f"{'characteristic':28} {'bytes':>5} {'frames/s':>12} {'µs/frame':>9}")
    raw = 0xF2F8
    seconds = timed(count, lambda: decode_sfloat(raw))
    print(f"{'SFLOAT alone':28} {2:>5} {count / seconds:>12,.0f} {seconds / count * 1e6:>9.2f}")
    for name, (uuid, data) in sample_frames().items():
        quirks = gatt.KNOWN_QUIRKS if "quirky" in name else frozenset()
        gatt.decode(uuid, data, quirks)  # fails loudly if a sample is wrong

        def work(uuid: int = uuid, data: bytes = data, quirks: frozenset[str] = quirks) -> object:
            return gatt.decode(uuid, data, quirks)

        seconds = timed(count, work)
        print(f"{name:28} {len(data):>5} {count / seconds:>12,.0f} {seconds / count * 1e6:>9.2f}")


if __name__ == "__main__":
    main()
