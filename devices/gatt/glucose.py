"""Glucose Measurement 0x2A18 (Glucose service 0x1808).

Layout: flags u8 (0 time offset, 1 concentration + type/sample location, 2 units mol/L
(else kg/L), 3 sensor status annunciation, 4 context information follows), sequence
number u16, base time (Date Time), [time offset s16 minutes], [concentration SFLOAT,
type-sample location u8 (type: low nibble, location: high nibble)], [sensor status u16].

Concentrations convert exactly: kg/L * 100000 = mg/dL, mol/L * 1000 = mmol/L. The time
stamp is base time + offset (None if the base time is unknown). Type and location go into
Measurement.status as ``sample_<type>`` and ``location_<location>``."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from devices import coding
from devices.gatt._codec import BitTable, Reader, Writer, bit_names, code_of, lookup, names_bits
from devices.gatt._codec import ordered as _ordered
from devices.ieee11073 import EXACT, Numeric, observed
from devices.measurement import Measurement

_OFFSET, _CONCENTRATION, _MOLAR, _STATUS, _CONTEXT = 0x01, 0x02, 0x04, 0x08, 0x10

SAMPLE_TYPES = {
    1: "capillary_whole_blood", 2: "capillary_plasma", 3: "venous_whole_blood",
    4: "venous_plasma", 5: "arterial_whole_blood", 6: "arterial_plasma",
    7: "undetermined_whole_blood", 8: "undetermined_plasma", 9: "interstitial_fluid",
    10: "control_solution",
}  # fmt: skip
SAMPLE_LOCATIONS = {1: "finger", 2: "alternate_site", 3: "earlobe", 4: "control_solution",
                    15: "not_available"}  # fmt: skip
SENSOR_STATUS: BitTable = (
    (0, "device_battery_low"), (1, "sensor_malfunction"), (2, "sample_size_insufficient"),
    (3, "strip_insertion_error"), (4, "strip_type_incorrect"), (5, "result_too_high"),
    (6, "result_too_low"), (7, "sensor_temperature_too_high"),
    (8, "sensor_temperature_too_low"), (9, "sensor_read_interrupted"),
    (10, "general_device_fault"), (11, "time_fault"),
)  # fmt: skip
CONTEXT_FOLLOWS = "context_follows"
MG_DL_PER_KG_L_EXP = 5  # kg/L * 10**5 = mg/dL
MMOL_L_PER_MOL_L_EXP = 3  # mol/L * 10**3 = mmol/L


@dataclasses.dataclass(frozen=True)
class GlucoseFrame:
    sequence_number: int
    base_time: datetime | None  # None: unknown (all zero on the wire)
    time_offset: int | None = None  # minutes; None: field absent
    concentration: Numeric | None = None  # kg/L or mol/L as sent; None: field absent
    molar: bool = False  # units: False kg/L, True mol/L
    sample_type: str = "capillary_whole_blood"  # with the concentration
    sample_location: str = "finger"
    sensor_status: frozenset[str] | None = None  # None: field absent
    context_follows: bool = False

    @property
    def timestamp(self) -> datetime | None:
        if self.base_time is None:
            return None
        return self.base_time + timedelta(minutes=self.time_offset or 0)

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset()) -> GlucoseFrame:
        r = Reader(data, "Glucose Measurement")
        flags = r.u8("flags")
        sequence = r.u16("sequence number")
        base_time = r.date_time("base time")
        offset = r.s16("time offset") if flags & _OFFSET else None
        concentration = None
        sample_type, location = "capillary_whole_blood", "finger"  # the field defaults
        if flags & _CONCENTRATION:
            concentration = r.sfloat("glucose concentration")
            packed = r.u8("type-sample location")
            sample_type = lookup(SAMPLE_TYPES, packed & 0x0F, f"{r.what}: type")
            location = lookup(SAMPLE_LOCATIONS, packed >> 4, f"{r.what}: sample location")
        status = None
        if flags & _STATUS:
            status = bit_names(r.u16("sensor status annunciation"), SENSOR_STATUS)
        return cls(sequence, base_time, offset, concentration, bool(flags & _MOLAR),
                   sample_type, location, status, bool(flags & _CONTEXT))  # fmt: skip

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        w = Writer()
        flags = _OFFSET if self.time_offset is not None else 0
        flags |= _CONCENTRATION if self.concentration is not None else 0
        flags |= _MOLAR if self.molar else 0
        flags |= _STATUS if self.sensor_status is not None else 0
        flags |= _CONTEXT if self.context_follows else 0
        w.u8(flags)
        w.u16(self.sequence_number)
        w.date_time(self.base_time)
        if self.time_offset is not None:
            w.s16(self.time_offset)
        if self.concentration is not None:
            w.sfloat(self.concentration)
            sample_type = code_of(SAMPLE_TYPES, self.sample_type, "glucose sample type")
            location = code_of(SAMPLE_LOCATIONS, self.sample_location, "sample location")
            w.u8(location << 4 | sample_type)
        if self.sensor_status is not None:
            w.u16(names_bits(self.sensor_status, SENSOR_STATUS, "glucose sensor status"))
        return w.bytes()

    def to_measurement(self) -> Measurement:
        values = []
        status: tuple[str, ...] = ()
        if self.concentration is not None:
            value = observed(self.concentration)
            if self.molar:
                scaled = None if value is None else value.scaleb(MMOL_L_PER_MOL_L_EXP, EXACT)
                values.append(coding.obs(coding.GLUCOSE_MOLAR, scaled))
            else:
                scaled = None if value is None else value.scaleb(MG_DL_PER_KG_L_EXP, EXACT)
                values.append(coding.obs(coding.GLUCOSE_MASS, scaled))
            status = (f"sample_{self.sample_type}", f"location_{self.sample_location}")
        status += _ordered(self.sensor_status or frozenset(), SENSOR_STATUS)
        if self.context_follows:
            status += (CONTEXT_FOLLOWS,)
        return Measurement(
            kind="glucose",
            observations=tuple(values),
            timestamp=self._safe_timestamp(),
            status=status,
        )

    def _safe_timestamp(self) -> datetime | None:
        try:
            return self.timestamp
        except OverflowError:  # base time near year 1 or 9999 plus a large offset
            return None
