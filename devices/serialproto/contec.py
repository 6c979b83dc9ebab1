"""Contec CMS50D+/CMS50E pulse oximeters.

Current protocol (115200 8N1), as Contec's "Communication protocol of pulse oximeter
V7.0" (2010-07-08) gives it (published with github.com/albertcbraun/CMS50FW) and as the
capture in github.com/headrotor/art-sensors spO2/stream_data.py shows it: packets start
with a type byte with bit 7 clear; every other byte has bit 7 set. The second byte carries
the real bit 7 of the data bytes that follow it (bit 0 for the first data byte, bit 1 for
the second, ...). The host sends 9-byte commands ``7D 81 <op> 80 80 80 80 80 80``: A1
starts the live stream, A2 stops it, AF says the host is still there (once a second in the
specification; the device stops streaming when the host goes quiet). Live data is packet
type 01, 9 bytes, 60 per second; its 7 data bytes (table 3 of the specification):

    status: bits 0-3 signal strength (0-8), bit 4 searching too long, bit 5 low SpO2
            (the specification says to ignore it), bit 6 pulse beep, bit 7 probe error
            (the device shows "finger out")
    pleth:  bits 0-6 waveform, bit 7 searching for a pulse
    bar:    bits 0-3 bar graph, bit 4 set when the perfusion index is not valid
    pulse:  0-254 /min, FF = no value
    spo2:   0-100 %, 7F = no value
    PI low, PI high: perfusion index x 100 (0-2200, i.e. 0.00-22.00 %), FFFF = no value

Legacy protocol (19200 8N1), 5-byte frames ~60 per second, bit 7 set on the first byte
only (sync), as github.com/atbrask/CMS50Dplus decodes it (cms50dplus.py, unittests.py):

    b0: bits 0-3 signal strength, bit 4 searching too long (atbrask: "finger out"),
        bit 5 SpO2 dropping, bit 6 beat, bit 7 sync
    b1: pleth (7 bits); b2: bits 0-3 bar graph, bit 4 finger out (atbrask: "probe
        error"), bit 5 searching, bit 6 pulse rate bit 7; b3: pulse rate bits 0-6; b4: SpO2
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import HighBitFramer, SyncBitFramer
from devices.serialproto.readings import OximeterReading, Reading, expect_type

LIVE_TYPE = 0x01
COMMAND_TYPE = 0x7D
LIVE_LENGTH = 9
COMMAND_LENGTH = 9
OP_START_LIVE = 0xA1
OP_STOP_LIVE = 0xA2
OP_KEEP_ALIVE = 0xAF
NO_PULSE = 0xFF
NO_SPO2 = 0x7F
NO_PI = 0xFFFF
MAX_PI = 2200  # 22.00 %, the specification's upper bound
PI_STEP = Decimal("0.01")
LEGACY_LENGTH = 5

# Live packet (specification V7.0, table 3): status-byte bits and the pleth byte's bit 7.
_STATUS_FLAGS = {0x10: "searching_too_long", 0x80: "finger_out"}
_PLETH_SEARCHING = 0x80
_PI_INVALID = 0x10  # in the bar-graph byte
_LIVE_FLAGS = {*_STATUS_FLAGS.values(), "searching"}
# Legacy: flags in byte 0 and in byte 2.
_LEGACY_FLAGS_B0 = {0x10: "searching_too_long", 0x20: "spo2_dropping"}
_LEGACY_FLAGS_B2 = {0x10: "finger_out", 0x20: "searching"}


def command(op: int) -> bytes:
    """A host command with its op code (A1 start, A2 stop, AF keep-alive)."""
    return pack_high_bits(COMMAND_TYPE, [op, 0, 0, 0, 0, 0, 0])


def pack_high_bits(packet_type: int, data: list[int]) -> bytes:
    if packet_type > 0x7F or len(data) > 7 or any(not 0 <= d <= 0xFF for d in data):
        raise ValueError("a packet has a 7-bit type and at most 7 data bytes")
    high = 0x80
    for i, d in enumerate(data):
        if d & 0x80:
            high |= 1 << i
    return bytes([packet_type, high, *(0x80 | (d & 0x7F) for d in data)])


START_LIVE = command(OP_START_LIVE)
STOP_LIVE = command(OP_STOP_LIVE)
KEEP_ALIVE = command(OP_KEEP_ALIVE)


def unpack_high_bits(frame: bytes) -> tuple[int, list[int]]:
    """(type, data bytes with their bit 7 restored)."""
    if len(frame) < 2:
        raise DecodeError(f"a Contec packet needs at least 2 bytes, got {len(frame)}")
    if frame[0] & 0x80:
        raise DecodeError("a Contec packet must start with a type byte below 0x80")
    if any(not b & 0x80 for b in frame[1:]):
        raise DecodeError("a Contec packet has bit 7 set on every byte after the type")
    high = frame[1]
    return frame[0], [(b & 0x7F) | (((high >> i) & 1) << 7) for i, b in enumerate(frame[2:])]


def framer() -> HighBitFramer:
    return HighBitFramer({LIVE_TYPE: LIVE_LENGTH})


def command_framer() -> HighBitFramer:
    """Frames the host's commands (used by the simulator)."""
    return HighBitFramer({COMMAND_TYPE: COMMAND_LENGTH})


def decode(frame: bytes) -> Measurement:
    packet_type, data = unpack_high_bits(frame)
    if packet_type != LIVE_TYPE:
        raise DecodeError(f"Contec packet type 0x{packet_type:02X} is not live data")
    if len(frame) != LIVE_LENGTH:
        raise DecodeError(f"a Contec live packet needs {LIVE_LENGTH} bytes, got {len(frame)}")
    status, pleth, bar, pulse, spo2, pi_low, pi_high = data
    flags = {name for bit, name in _STATUS_FLAGS.items() if status & bit}
    if pleth & _PLETH_SEARCHING:
        flags.add("searching")
    if pulse != NO_PULSE and pulse > 254:
        raise DecodeError(f"Contec pulse rate {pulse} /min is out of range")
    pi_raw = pi_low | pi_high << 8
    perfusion = None
    if not bar & _PI_INVALID and pi_raw != NO_PI:
        if pi_raw > MAX_PI:
            raise DecodeError(f"Contec perfusion index {pi_raw / 100:.2f} % is above 22 %")
        perfusion = Decimal(pi_raw) * PI_STEP
    reading = _reading(spo2, pulse, pleth, frozenset(flags))
    if perfusion is None:
        return reading.measurement()
    return dataclasses.replace(reading, perfusion_index=perfusion).measurement()


def encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    _check_flags(r, _LIVE_FLAGS)
    status = 0x05  # signal strength 5
    for bit, name in _STATUS_FLAGS.items():
        if name in r.flags:
            status |= bit
    pleth = _in_range(r.pleth, 0, 127, "pleth")
    if "searching" in r.flags:
        pleth |= _PLETH_SEARCHING
    pulse = NO_PULSE if r.pulse is None else _in_range(r.pulse, 0, 254, "pulse")
    spo2 = NO_SPO2 if r.spo2 is None else _in_range(r.spo2, 0, 100, "SpO2")
    bar = 0x05
    if r.perfusion_index is None:
        bar |= _PI_INVALID
        pi_raw = NO_PI
    else:
        pi_raw = _in_range(int(r.perfusion_index / PI_STEP), 0, MAX_PI, "perfusion index x100")
    data = [status, pleth, bar, pulse, spo2, pi_raw & 0xFF, pi_raw >> 8]
    return pack_high_bits(LIVE_TYPE, data)


def legacy_framer() -> SyncBitFramer:
    return SyncBitFramer(LEGACY_LENGTH)


def legacy_decode(frame: bytes) -> Measurement:
    if len(frame) != LEGACY_LENGTH:
        raise DecodeError(f"a Contec legacy frame needs {LEGACY_LENGTH} bytes, got {len(frame)}")
    if not frame[0] & 0x80 or any(b & 0x80 for b in frame[1:]):
        raise DecodeError("a Contec legacy frame has the sync bit on its first byte only")
    b0, pleth, b2, b3, spo2 = frame
    flags = {name for bit, name in _LEGACY_FLAGS_B0.items() if b0 & bit}
    flags |= {name for bit, name in _LEGACY_FLAGS_B2.items() if b2 & bit}
    pulse = ((b2 & 0x40) << 1) | b3
    return _reading(spo2, pulse, pleth, frozenset(flags)).measurement()


def legacy_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    _check_flags(r, set(_LEGACY_FLAGS_B0.values()) | set(_LEGACY_FLAGS_B2.values()))
    b0 = 0x80 | 0x05
    for bit, name in _LEGACY_FLAGS_B0.items():
        if name in r.flags:
            b0 |= bit
    b2 = 0x05
    for bit, name in _LEGACY_FLAGS_B2.items():
        if name in r.flags:
            b2 |= bit
    pulse = NO_PULSE if r.pulse is None else _in_range(r.pulse, 0, 254, "pulse")
    if pulse & 0x80:
        b2 |= 0x40
    spo2 = NO_SPO2 if r.spo2 is None else _in_range(r.spo2, 0, 100, "SpO2")
    return bytes([b0, _in_range(r.pleth, 0, 127, "pleth"), b2, pulse & 0x7F, spo2])


def _reading(spo2: int, pulse: int, pleth: int, flags: frozenset[str]) -> OximeterReading:
    if spo2 != NO_SPO2 and spo2 > 100:
        raise DecodeError(f"SpO2 {spo2} % is above 100 %")
    return OximeterReading(
        spo2=None if spo2 == NO_SPO2 else spo2,
        pulse=None if pulse == NO_PULSE else pulse,
        pleth=pleth & 0x7F,
        flags=flags,
    )


def _in_range(value: int, low: int, high: int, what: str) -> int:
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is outside {low}-{high}")
    return value


def _check_flags(reading: OximeterReading, known: set[str]) -> None:
    unknown = reading.flags - known
    if unknown:
        raise ValueError(f"this protocol cannot carry the flags {sorted(unknown)}")
