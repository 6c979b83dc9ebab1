"""Temperature Measurement 0x2A1C and Intermediate Temperature 0x2A1E (service 0x1809).

Layout: flags u8 (bit 0 Fahrenheit, bit 1 time stamp, bit 2 temperature type), temperature
FLOAT, [time stamp], [temperature type u8]. Fahrenheit keeps its UCUM unit ``[degF]``
(exact; no lossy conversion). The temperature type (body site) goes into
Measurement.status as ``site_<name>`` (e.g. ``site_tympanum``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from devices import coding
from devices.gatt._codec import Reader, Writer, code_of, lookup
from devices.ieee11073 import Numeric, observed
from devices.measurement import Measurement

_FAHRENHEIT, _TIMESTAMP, _TYPE = 0x01, 0x02, 0x04

SITES = {1: "armpit", 2: "body", 3: "ear", 4: "finger", 5: "gastrointestinal_tract",
         6: "mouth", 7: "rectum", 8: "toe", 9: "tympanum"}  # fmt: skip
FAHRENHEIT_UNIT = "[degF]"


@dataclasses.dataclass(frozen=True)
class TemperatureFrame:
    value: Numeric
    fahrenheit: bool = False
    timestamp: datetime | None = None
    site: str | None = None  # a value of SITES; None: field absent
    intermediate: bool = False  # 0x2A1E Intermediate Temperature

    @classmethod
    def from_bytes(cls, data: bytes, quirks: frozenset[str] = frozenset(),
                   intermediate: bool = False) -> TemperatureFrame:  # fmt: skip
        r = Reader(data, "Intermediate Temperature" if intermediate else "Temperature")
        flags = r.u8("flags")
        value = r.float32("temperature")
        timestamp = r.date_time("time stamp") if flags & _TIMESTAMP else None
        site = None
        if flags & _TYPE:
            site = lookup(SITES, r.u8("temperature type"), f"{r.what}: temperature type")
        return cls(value, bool(flags & _FAHRENHEIT), timestamp, site, intermediate)

    def to_bytes(self, quirks: frozenset[str] = frozenset()) -> bytes:
        w = Writer()
        flags = _FAHRENHEIT if self.fahrenheit else 0
        flags |= _TIMESTAMP if self.timestamp is not None else 0
        flags |= _TYPE if self.site is not None else 0
        w.u8(flags)
        w.float32(self.value)
        if self.timestamp is not None:
            w.date_time(self.timestamp)
        if self.site is not None:
            w.u8(code_of(SITES, self.site, "temperature type"))
        return w.bytes()

    def to_measurement(self) -> Measurement:
        unit = FAHRENHEIT_UNIT if self.fahrenheit else None
        return Measurement(
            kind="temperature",
            observations=(coding.obs(coding.BODY_TEMPERATURE, observed(self.value), unit),),
            timestamp=self.timestamp,
            status=() if self.site is None else (f"site_{self.site}",),
            intermediate=self.intermediate,
        )
