"""Serial instrument protocols, keyed by the names used in the configuration
(``protocol = "nonin-df8"``). Each gives its line settings, a framer, a pure decoder,
what to send on connect and as keep-alive, and an encoder for the simulators."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime

from devices.config import InstrumentKind
from devices.measurement import DecodeError, Measurement
from devices.serialproto import contec, nonin, nonin_spot, tanita, tanita_kv
from devices.serialproto.framing import Frame, Framer
from devices.serialproto.readings import (
    BodyReading,
    OximeterReading,
    Reading,
    expect_type,
    realistic_body,
    realistic_oximeter,
)

__all__ = [
    "PROTOCOLS",
    "BodyReading",
    "DecodeError",
    "Frame",
    "Framer",
    "OximeterReading",
    "Reading",
    "SerialProtocol",
    "UnknownProtocol",
    "protocol",
]


@dataclasses.dataclass(frozen=True)
class SerialProtocol:
    name: str
    description: str
    kind: InstrumentKind
    baudrate: int
    bytesize: int  # 7 or 8
    parity: str  # "N", "O", "E" (pyserial's PARITY_*)
    stopbits: float
    framer: Callable[[], Framer]
    decode: Callable[[bytes], Measurement]
    encode: Callable[[Reading], bytes]  # for the simulators and the round-trip tests
    sample: Callable[[random.Random], Reading]  # a realistic reading for the simulators
    # Where the format was checked: "" when a public source (vendor document, published
    # driver or capture, cited in the decoder's module and its tests) confirms it; else
    # what is missing, shown by ``kiosk devices protocols``.
    unconfirmed: str = ""
    on_connect: tuple[bytes, ...] = ()  # sent once the port is open
    keep_alive: bytes | None = None
    keep_alive_s: float | None = None
    start_measurement: bytes | None = None  # sent by request_measurement()
    frames_per_second: float = 1.0  # how often the real device sends (simulators)
    # A format-selection command the device answers with ACK/NAK (Nonin).
    expects_ack: bool = False
    # Sends continuously while on (silence means switched off); else only per reading.
    streams: bool = False

    @property
    def line_settings(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits:g}"


def _tanita_sample(rng: random.Random) -> Reading:
    r = realistic_body(rng)
    assert r.fat_percent is not None and r.height_cm is not None
    return tanita.body_reading(r.weight_kg, r.fat_percent, r.height_cm)


def _dated_tanita_sample(rng: random.Random) -> Reading:
    """A reading with the scale's clock (the BC-418 and key/value lines carry one)."""
    r = expect_type(_tanita_sample(rng), BodyReading)
    return dataclasses.replace(r, timestamp=datetime.now().replace(second=0, microsecond=0))


_Codec = tuple[Callable[[], Framer], Callable[[bytes], Measurement], Callable[[Reading], bytes]]


def _spot_check_sample(rng: random.Random) -> Reading:
    """A high-quality spot-check with the oximeter's clock, as format 13 sends it."""
    r = realistic_oximeter(rng)
    when = datetime.now().replace(microsecond=0)
    return dataclasses.replace(r, pleth=0, flags=frozenset({"smartpoint"}), timestamp=when)


def _nonin(fmt: int, name: str, description: str, per_second: float = 1.0) -> SerialProtocol:
    codecs: dict[int, _Codec] = {
        8: (nonin.df8_framer, nonin.df8_decode, nonin.df8_encode),
        2: (nonin.df2_framer, nonin.df2_decode, nonin.df2_encode),
        13: (nonin_spot.df13_framer, nonin_spot.df13_decode, nonin_spot.df13_encode),
    }
    framer, decode, encode = codecs[fmt]
    return SerialProtocol(
        name=name,
        description=description,
        kind=InstrumentKind.PULSE_OXIMETER,
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits=1,
        framer=framer,
        decode=decode,
        encode=encode,
        sample=_spot_check_sample if fmt == 13 else realistic_oximeter,
        on_connect=(nonin.select_format(fmt),),
        expects_ack=True,
        frames_per_second=per_second,
        streams=fmt != 13,
    )


_ALL = [
    SerialProtocol(
        name="contec-cms50d",
        description="Contec CMS50D+/CMS50E, current protocol (high-bit framing, live packets)",
        kind=InstrumentKind.PULSE_OXIMETER,
        baudrate=115200,
        bytesize=8,
        parity="N",
        stopbits=1,
        framer=contec.framer,
        decode=contec.decode,
        encode=contec.encode,
        sample=realistic_oximeter,
        on_connect=(contec.START_LIVE,),
        keep_alive=contec.KEEP_ALIVE,
        keep_alive_s=5.0,  # the device stops streaming after ~10 s without one
        start_measurement=contec.START_LIVE,
        frames_per_second=60,
        streams=True,
    ),
    SerialProtocol(
        name="contec-legacy",
        description="Contec CMS50 older firmware: 5-byte frames with a sync bit, 19200 baud",
        kind=InstrumentKind.PULSE_OXIMETER,
        baudrate=19200,
        bytesize=8,
        parity="N",
        stopbits=1,
        framer=contec.legacy_framer,
        decode=contec.legacy_decode,
        encode=contec.legacy_encode,
        sample=realistic_oximeter,
        frames_per_second=60,
        streams=True,
    ),
    _nonin(8, "nonin-df8", "Nonin data format 8: 4-byte frames once a second"),
    _nonin(
        2,
        "nonin-df2",
        "Nonin data format 2: 25 checksummed 5-byte frames per packet, 3 packets a second",
        per_second=3,
    ),
    _nonin(13, "nonin-df13", "Nonin data format 13: binary spot-check packet per reading"),
    SerialProtocol(
        name="tanita-tbf310",
        description="Tanita TBF-310 body composition: 12-field CSV line at 2400 baud 7E1",
        kind=InstrumentKind.BODY_COMPOSITION,
        baudrate=2400,
        bytesize=7,
        parity="E",
        stopbits=1,
        framer=tanita.framer,
        decode=tanita.tbf310_decode,
        encode=tanita.tbf310_encode,
        sample=_tanita_sample,
    ),
    SerialProtocol(
        name="tanita-bc418",
        description="Tanita BC-418 segmental body composition: 38-field CSV (remote mode)",
        kind=InstrumentKind.BODY_COMPOSITION,
        baudrate=4800,
        bytesize=8,
        parity="N",
        stopbits=1,
        framer=tanita.bc418_framer,
        decode=tanita.bc418_decode,
        encode=tanita.bc418_encode,
        sample=_dated_tanita_sample,
        unconfirmed="field order from the Onyx driver; no public sample line",
    ),
    SerialProtocol(
        name="tanita-kv",
        description="Tanita key/value line with CS checksum (MC-780, SC-330, BC-420...)",
        kind=InstrumentKind.BODY_COMPOSITION,
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits=1,
        framer=tanita_kv.framer,
        decode=tanita_kv.decode,
        encode=tanita_kv.encode,
        sample=_dated_tanita_sample,
    ),
]

PROTOCOLS: dict[str, SerialProtocol] = {p.name: p for p in _ALL}
# Other names seen in configurations and in the issue.
ALIASES = {
    "contec-v7": "contec-cms50d",
    "contec-cms50e": "contec-cms50d",
    "tanita-mc780": "tanita-kv",
    "tanita-sc330": "tanita-kv",
}


class UnknownProtocol(KeyError):
    """No serial protocol by that name (the message lists the known ones)."""

    def __str__(self) -> str:
        return str(self.args[0])


def protocol(name: str) -> SerialProtocol:
    """The protocol called ``name`` (or an alias); UnknownProtocol (a KeyError) if none."""
    found = PROTOCOLS.get(ALIASES.get(name, name))
    if found is None:
        known = ", ".join(sorted(PROTOCOLS))
        raise UnknownProtocol(f"unknown serial protocol {name!r}; known: {known}")
    return found
