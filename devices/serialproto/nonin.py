"""Nonin pulse oximeters (OEM III modules, Xpod, 9560 Onyx), 9600 8N1.

The host chooses the data format with ``02 70 02 02 <format> 03``; the device answers
ACK (06) and switches, or NAK (15).

Data format 8: 4-byte frames, once a second, bit 7 set on the status byte only:
    status: bit 7 sync, bit 6 sensor disconnected, bit 5 out of track, bit 4 low
            perfusion, bit 3 marginal perfusion, bit 2 artifact
    HR MSB (HR bits 7-8 in bits 0-1), HR LSB (HR bits 0-6), SpO2 (127 = no value);
    HR 511 = no value.

Data format 2: 5-byte frames ``01 status pleth data checksum`` (checksum: sum of the
first four bytes mod 256), 25 frames per packet, 3 packets a second:
    status: bit 7 always 1, bit 6 sensor disconnected, bit 5 artifact, bit 4 out of
            track, bit 3 sensor alarm, bit 2 red perfusion, bit 1 green perfusion (both:
            yellow), bit 0 sync (set on the first frame of a packet)
    data byte of frame 1: HR MSB, frame 2: HR LSB, frame 3: SpO2 (4-beat averages),
    frame 4: firmware revision; the other frames carry values we do not use.

Data format 13 (spot-check): one ASCII line per stable reading,
    ``23-Nov-26 10:42:05 SPO2=097 HR=072`` (date optional, ``---`` when no value,
    then status words SNSD, ARTF, OOT, LPRF, MPRF)."""

from __future__ import annotations

import re
from datetime import datetime

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import ChecksumFramer, LineFramer, SyncBitFramer
from devices.serialproto.readings import OximeterReading, Reading, expect_type

ACK = 0x06
NAK = 0x15
NO_HR = 511
NO_SPO2 = 127
DF8_LENGTH = 4
DF2_FRAME = 5
DF2_FRAMES = 25
DF2_START = 0x01

_DF8_FLAGS = {
    0x40: "sensor_disconnected",
    0x20: "out_of_track",
    0x10: "low_perfusion",
    0x08: "marginal_perfusion",
    0x04: "artifact",
}
_DF2_FLAGS = {
    0x40: "sensor_disconnected",
    0x20: "artifact",
    0x10: "out_of_track",
    0x08: "sensor_alarm",
}
_PERFUSION = 0x06  # red (0x04) and green (0x02)
_DF13_WORDS = {
    "SNSD": "sensor_disconnected",
    "ARTF": "artifact",
    "OOT": "out_of_track",
    "LPRF": "low_perfusion",
    "MPRF": "marginal_perfusion",
}


def select_format(data_format: int) -> bytes:
    if not 0 <= data_format <= 0x7F:
        raise ValueError(f"no Nonin data format {data_format}")
    return bytes([0x02, 0x70, 0x02, 0x02, data_format, 0x03])


def parse_select_format(command: bytes) -> int | None:
    """The format asked by a format-selection command, None if it is not one."""
    if len(command) == 6 and command[:4] == b"\x02\x70\x02\x02" and command[5] == 0x03:
        return command[4]
    return None


def _split_hr(hr: int | None) -> tuple[int, int]:
    value = NO_HR if hr is None else hr
    if not 0 <= value <= NO_HR:
        raise ValueError(f"heart rate {value} is outside 0-{NO_HR}")
    return (value >> 7) & 0x03, value & 0x7F


def _spo2_byte(spo2: int | None) -> int:
    if spo2 is None:
        return NO_SPO2
    if not 0 <= spo2 <= 100:
        raise ValueError(f"SpO2 {spo2} is outside 0-100")
    return spo2


def _reading(hr: int, spo2: int, pleth: int, flags: frozenset[str]) -> OximeterReading:
    if spo2 != NO_SPO2 and spo2 > 100:
        raise DecodeError(f"SpO2 {spo2} % is above 100 %")
    return OximeterReading(
        spo2=None if spo2 == NO_SPO2 else spo2,
        pulse=None if hr == NO_HR else hr,
        pleth=pleth,
        flags=flags,
    )


def _check_flags(reading: OximeterReading, known: set[str]) -> None:
    unknown = reading.flags - known
    if unknown:
        raise ValueError(f"this data format cannot carry the flags {sorted(unknown)}")


# -- data format 8 --------------------------------------------------------------------


def df8_framer() -> SyncBitFramer:
    return SyncBitFramer(DF8_LENGTH)


def df8_decode(frame: bytes) -> Measurement:
    if len(frame) != DF8_LENGTH:
        raise DecodeError(f"a Nonin format 8 frame needs {DF8_LENGTH} bytes, got {len(frame)}")
    if not frame[0] & 0x80 or any(b & 0x80 for b in frame[1:]):
        raise DecodeError("a Nonin format 8 frame has the sync bit on its status byte only")
    status, msb, lsb, spo2 = frame
    if msb & 0x7C:
        raise DecodeError("Nonin format 8: HR MSB uses bits 0-1 only")
    flags = frozenset(name for bit, name in _DF8_FLAGS.items() if status & bit)
    return _reading((msb << 7) | lsb, spo2, 0, flags).measurement()


def df8_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    _check_flags(r, set(_DF8_FLAGS.values()))
    status = 0x80
    for bit, name in _DF8_FLAGS.items():
        if name in r.flags:
            status |= bit
    msb, lsb = _split_hr(r.pulse)
    return bytes([status, msb, lsb, _spo2_byte(r.spo2)])


# -- data format 2 --------------------------------------------------------------------


def df2_framer() -> ChecksumFramer:
    return ChecksumFramer(
        start=DF2_START,
        length=DF2_FRAME,
        per_packet=DF2_FRAMES,
        is_first=lambda f: bool(f[1] & 0x01),
        plausible=lambda f: bool(f[1] & 0x80),
    )


def df2_decode(packet: bytes) -> Measurement:
    if len(packet) != DF2_FRAME * DF2_FRAMES:
        raise DecodeError(
            f"a Nonin format 2 packet needs {DF2_FRAMES} frames of {DF2_FRAME} bytes, "
            f"got {len(packet)} bytes"
        )
    frames = [packet[i : i + DF2_FRAME] for i in range(0, len(packet), DF2_FRAME)]
    flags: set[str] = set()
    for n, f in enumerate(frames):
        if f[0] != DF2_START or not f[1] & 0x80:
            raise DecodeError(f"Nonin format 2 frame {n + 1} does not start with 01 and a status")
        if sum(f[:4]) & 0xFF != f[4]:
            raise DecodeError(f"Nonin format 2 frame {n + 1}: bad checksum")
        if bool(f[1] & 0x01) != (n == 0):
            raise DecodeError("Nonin format 2: the sync bit must be set on frame 1 only")
        flags |= {name for bit, name in _DF2_FLAGS.items() if f[1] & bit}
        perfusion = f[1] & _PERFUSION
        if perfusion == 0x04:
            flags.add("low_perfusion")
        elif perfusion == _PERFUSION:
            flags.add("marginal_perfusion")
    msb, lsb, spo2 = frames[0][3], frames[1][3], frames[2][3]
    if msb & 0xFC or lsb & 0x80:
        raise DecodeError("Nonin format 2: HR MSB uses bits 0-1, HR LSB bits 0-6")
    return _reading((msb << 7) | lsb, spo2, frames[0][2], frozenset(flags)).measurement()


def df2_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    _check_flags(r, {*_DF2_FLAGS.values(), "low_perfusion", "marginal_perfusion"})
    status = 0x80
    for bit, name in _DF2_FLAGS.items():
        if name in r.flags:
            status |= bit
    if "low_perfusion" in r.flags and "marginal_perfusion" in r.flags:
        raise ValueError("perfusion is either low or marginal")
    if "low_perfusion" in r.flags:
        status |= 0x04
    elif "marginal_perfusion" in r.flags:
        status |= _PERFUSION
    else:
        status |= 0x02  # green: good perfusion
    msb, lsb = _split_hr(r.pulse)
    data = [msb, lsb, _spo2_byte(r.spo2), 0x42] + [0] * (DF2_FRAMES - 4)
    out = bytearray()
    for n, d in enumerate(data):
        frame = [DF2_START, status | (0x01 if n == 0 else 0), r.pleth & 0xFF, d]
        out += bytes([*frame, sum(frame) & 0xFF])
    return bytes(out)


# -- data format 13 (spot-check) ------------------------------------------------------

_DF13 = re.compile(
    r"^(?:(?P<date>\d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2})\s+)?"
    r"SPO2=(?P<spo2>\d{3}|---)\s+HR=(?P<hr>\d{3}|---)(?P<words>(?:\s+[A-Z]+)*)\s*$"
)


def df13_framer() -> LineFramer:
    return LineFramer()


def df13_decode(line: bytes) -> Measurement:
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        raise DecodeError("a Nonin spot-check line is ASCII text") from None
    match = _DF13.match(text)
    if match is None:
        raise DecodeError("not a Nonin spot-check line (SPO2=nnn HR=nnn)")
    timestamp = None
    if match["date"]:
        try:
            timestamp = datetime.strptime(match["date"], "%d-%b-%y %H:%M:%S")
        except ValueError:
            raise DecodeError("the spot-check date is not a valid date") from None
    flags = set()
    for word in match["words"].split():
        if word not in _DF13_WORDS:
            raise DecodeError(f"unknown spot-check status word {word!r}")
        flags.add(_DF13_WORDS[word])
    spo2 = None if match["spo2"] == "---" else int(match["spo2"])
    hr = None if match["hr"] == "---" else int(match["hr"])
    if spo2 is not None and spo2 > 100:
        raise DecodeError(f"SpO2 {spo2} % is above 100 %")
    return OximeterReading(
        spo2=spo2, pulse=hr, pleth=0, flags=frozenset(flags), timestamp=timestamp
    ).measurement()


def df13_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    _check_flags(r, set(_DF13_WORDS.values()))
    parts = []
    if r.timestamp is not None:
        parts.append(r.timestamp.strftime("%d-%b-%y %H:%M:%S"))
    parts.append("SPO2=---" if r.spo2 is None else f"SPO2={_spo2_byte(r.spo2):03d}")
    if r.pulse is not None and not 0 <= r.pulse <= 999:
        raise ValueError(f"heart rate {r.pulse} does not fit 3 digits")
    parts.append("HR=---" if r.pulse is None else f"HR={r.pulse:03d}")
    parts += [w for w, name in _DF13_WORDS.items() if name in r.flags]
    return (" ".join(parts) + "\r\n").encode("ascii")
