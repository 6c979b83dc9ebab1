"""What a serial instrument reports, before it becomes coded observations. The simulators
build these (realistic values) and encode them with the protocol's encoder."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from devices import coding
from devices.measurement import Measurement


@dataclasses.dataclass(frozen=True)
class OximeterReading:
    spo2: int | None  # %, None when the device has no value yet
    pulse: int | None  # /min
    pleth: int = 64  # waveform sample, 0-127 (not an observation)
    flags: frozenset[str] = frozenset()  # e.g. finger_out, searching, artifact
    timestamp: datetime | None = None  # spot-check records carry one
    perfusion_index: Decimal | None = None  # %, when the device sends a valid one (Contec)

    def measurement(self) -> Measurement:
        """What a decoder of this reading yields: final when both values are there."""
        observations = [
            coding.obs(coding.SPO2, None if self.spo2 is None else Decimal(self.spo2)),
            coding.obs(coding.PULSE_RATE, None if self.pulse is None else Decimal(self.pulse)),
        ]
        if self.perfusion_index is not None:
            observations.append(coding.obs(coding.PERFUSION_INDEX, self.perfusion_index))
        return Measurement(
            kind="spo2",
            observations=tuple(observations),
            timestamp=self.timestamp,
            status=tuple(sorted(self.flags)),
            intermediate=self.spo2 is None or self.pulse is None,
        )


@dataclasses.dataclass(frozen=True)
class BodyReading:
    weight_kg: Decimal  # 0.1 kg resolution
    fat_percent: Decimal | None = None  # 0.1 %
    height_cm: Decimal | None = None  # 0.1 cm
    bmi: Decimal | None = None  # 0.1 kg/m2
    timestamp: datetime | None = None

    def measurement(self) -> Measurement:
        observations = [coding.obs(coding.BODY_WEIGHT, self.weight_kg)]
        if self.fat_percent is not None:
            observations.append(coding.obs(coding.BODY_FAT, self.fat_percent))
        if self.height_cm is not None:
            observations.append(coding.obs(coding.BODY_HEIGHT, self.height_cm))
        if self.bmi is not None:
            observations.append(coding.obs(coding.BMI, self.bmi))
        return Measurement(
            kind="body_composition", observations=tuple(observations), timestamp=self.timestamp
        )


Reading = OximeterReading | BodyReading
T = TypeVar("T")


def realistic_oximeter(rng: random.Random) -> OximeterReading:
    return OximeterReading(
        spo2=rng.randint(94, 99), pulse=rng.randint(58, 92), pleth=rng.randint(10, 120)
    )


def realistic_body(rng: random.Random) -> BodyReading:
    height = Decimal(rng.randint(1500, 1900)) / 10
    weight = Decimal(rng.randint(480, 1050)) / 10
    bmi = (weight / (height / 100) ** 2).quantize(Decimal("0.1"))
    return BodyReading(
        weight_kg=weight,
        fat_percent=Decimal(rng.randint(120, 380)) / 10,
        height_cm=height,
        bmi=bmi,
    )


def expect_type(reading: object, kind: type[T]) -> T:
    if not isinstance(reading, kind):
        raise TypeError(f"this encoder takes a {kind.__name__}, not {type(reading).__name__}")
    return reading
