"""Nonin pulse oximeters (9560 Onyx II, OEM III modules, Xpod), 9600 8N1: data formats 8
and 2 (format 13, the spot-check packet, is in ``nonin_spot``).

Source: Nonin's "Onyx II Model 9560 Bluetooth Fingertip Oximeter OEM Specification and
Technical Information" (6470-000-01, 2008), which github.com/mattjlewis/NoninPulseOx ships
as "Nonin 9560 Bluetooth Specification.pdf" beside its driver; rprobinson/MediPi
(MediPiPatient/.../drivers/domain/N9560Measurement.java) reads the same layouts.

The host chooses the data format with ``02 70 02 02 <format> 03``; the device answers
ACK (06) and switches, or NAK (15). Values are decimal; "R" bits are reserved and may be
0 or 1, so they are masked, never checked. HR 511 and SpO2 127 mean "no value".

Data format 8: 4 bytes once a second, bit 7 set on the first byte only:
    status 1: bit 7 always 1, bit 6 R, bit 5 out of track, bit 4 low perfusion, bit 3
              marginal perfusion, bit 2 artifact, bits 1-0 HR bits 8-7
    HR LSB (HR bits 6-0), SpO2 (4-beat average, formatted for display)
    status 2: bit 7 always 0, bit 5 SmartPoint (high-quality measurement), bit 3 sensor
              alarm (finger removed), bit 0 low battery; bits 6, 4, 2, 1 R

Data format 2: 5-byte frames ``01 status pleth data checksum`` (checksum: the sum of the
first four bytes mod 256), 25 frames per packet, 3 packets a second:
    status: bit 7 always 1, bit 6 R in the 9560 specification (reported as "sensor
            disconnected", as older OEM III modules define it: unconfirmed), bit 5
            artifact, bit 4 out of track, bit 3 sensor alarm, bits 2-1 perfusion (red 10,
            yellow 11, green 01), bit 0 sync: set on frame 1 only
    data byte of frame 1: HR MSB (bits 1-0: HR bits 8-7), frame 2: HR LSB, frame 3: SpO2
    (4-beat averages for recording), frame 4: firmware revision, frame 8: status 2
    (bit 5 SmartPoint, bit 0 low battery); the other frames carry values we do not use.
A reader that joins the stream in the middle of a packet drops frames until the next
frame with the sync bit, then reads whole packets."""

from __future__ import annotations

from devices.measurement import DecodeError, Measurement
from devices.serialproto.framing import ChecksumFramer, SyncBitFramer
from devices.serialproto.readings import OximeterReading, Reading, expect_type

ACK = 0x06
NAK = 0x15
NO_HR = 511
NO_SPO2 = 127
MAX_HR = 321  # the 9560's pulse rate range is 18-321 /min
DF8_LENGTH = 4
DF2_FRAME = 5
DF2_FRAMES = 25
DF2_START = 0x01

_DF8_STATUS1 = {
    0x20: "out_of_track",
    0x10: "low_perfusion",
    0x08: "marginal_perfusion",
    0x04: "artifact",
}
_DF8_STATUS2 = {0x20: "smartpoint", 0x08: "sensor_alarm", 0x01: "low_battery"}
_DF2_FLAGS = {
    0x40: "sensor_disconnected",
    0x20: "artifact",
    0x10: "out_of_track",
    0x08: "sensor_alarm",
}
_DF2_STAT2 = {0x20: "smartpoint", 0x01: "low_battery"}
_PERFUSION = 0x06  # red (0x04) and green (0x02)
_DF2_STAT2_FRAME = 7  # frame 8, counted from 0
_DF2_FLAG_NAMES = {*_DF2_FLAGS.values(), *_DF2_STAT2.values(), "low_perfusion",
                   "marginal_perfusion"}  # fmt: skip


def select_format(data_format: int) -> bytes:
    if not 0 <= data_format <= 0x7F:
        raise ValueError(f"no Nonin data format {data_format}")
    return bytes([0x02, 0x70, 0x02, 0x02, data_format, 0x03])


def parse_select_format(command: bytes) -> int | None:
    """The format asked by a format-selection command, None if it is not one."""
    if len(command) == 6 and command[:4] == b"\x02\x70\x02\x02" and command[5] == 0x03:
        return command[4]
    return None


def split_hr(hr: int | None) -> tuple[int, int]:
    """HR (None: no value) as (bits 8-7, bits 6-0)."""
    value = NO_HR if hr is None else hr
    if not 0 <= value <= NO_HR:
        raise ValueError(f"heart rate {value} is outside 0-{NO_HR}")
    return (value >> 7) & 0x03, value & 0x7F


def spo2_byte(spo2: int | None) -> int:
    if spo2 is None:
        return NO_SPO2
    if not 0 <= spo2 <= 100:
        raise ValueError(f"SpO2 {spo2} is outside 0-100")
    return spo2


def checked_reading(
    hr: int, spo2: int, pleth: int, flags: frozenset[str], what: str
) -> OximeterReading:
    """A reading from raw HR and SpO2 values; DecodeError if either is out of range."""
    if spo2 != NO_SPO2 and spo2 > 100:
        raise DecodeError(f"{what}: SpO2 {spo2} % is above 100 %")
    if hr != NO_HR and hr > MAX_HR:
        raise DecodeError(f"{what}: heart rate {hr} /min is above {MAX_HR} /min")
    return OximeterReading(
        spo2=None if spo2 == NO_SPO2 else spo2,
        pulse=None if hr == NO_HR else hr,
        pleth=pleth,
        flags=flags,
    )


def check_flags(reading: OximeterReading, known: set[str]) -> None:
    unknown = reading.flags - known
    if unknown:
        raise ValueError(f"this data format cannot carry the flags {sorted(unknown)}")


def _names(byte: int, table: dict[int, str]) -> set[str]:
    return {name for bit, name in table.items() if byte & bit}


def _bits(flags: frozenset[str], table: dict[int, str]) -> int:
    return sum(bit for bit, name in table.items() if name in flags)


# -- data format 8 --------------------------------------------------------------------


def df8_framer() -> SyncBitFramer:
    return SyncBitFramer(DF8_LENGTH)


def df8_decode(frame: bytes) -> Measurement:
    if len(frame) != DF8_LENGTH:
        raise DecodeError(f"a Nonin format 8 frame needs {DF8_LENGTH} bytes, got {len(frame)}")
    if not frame[0] & 0x80 or any(b & 0x80 for b in frame[1:]):
        raise DecodeError("a Nonin format 8 frame has bit 7 set on its first byte only")
    status1, hr_lsb, spo2, status2 = frame
    flags = _names(status1, _DF8_STATUS1) | _names(status2, _DF8_STATUS2)
    hr = (status1 & 0x03) << 7 | hr_lsb
    return checked_reading(hr, spo2, 0, frozenset(flags), "Nonin format 8").measurement()


def df8_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    check_flags(r, {*_DF8_STATUS1.values(), *_DF8_STATUS2.values()})
    msb, lsb = split_hr(r.pulse)
    status1 = 0x80 | _bits(r.flags, _DF8_STATUS1) | msb
    return bytes([status1, lsb, spo2_byte(r.spo2), _bits(r.flags, _DF8_STATUS2)])


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
        flags |= _names(f[1], _DF2_FLAGS)
        perfusion = f[1] & _PERFUSION
        if perfusion == 0x04:
            flags.add("low_perfusion")
        elif perfusion == _PERFUSION:
            flags.add("marginal_perfusion")
    msb, lsb, spo2 = frames[0][3], frames[1][3], frames[2][3]
    if (msb | lsb | spo2) & 0x80:
        raise DecodeError("Nonin format 2: HR and SpO2 bytes have bit 7 clear")
    flags |= _names(frames[_DF2_STAT2_FRAME][3], _DF2_STAT2)
    hr = (msb & 0x03) << 7 | lsb
    reading = checked_reading(hr, spo2, frames[0][2], frozenset(flags), "Nonin format 2")
    return reading.measurement()


def df2_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    check_flags(r, _DF2_FLAG_NAMES)
    status = 0x80 | _bits(r.flags, _DF2_FLAGS)
    if "low_perfusion" in r.flags and "marginal_perfusion" in r.flags:
        raise ValueError("perfusion is either low or marginal")
    if "low_perfusion" in r.flags:
        status |= 0x04
    elif "marginal_perfusion" in r.flags:
        status |= _PERFUSION
    else:
        status |= 0x02  # green: good perfusion
    msb, lsb = split_hr(r.pulse)
    data = [msb, lsb, spo2_byte(r.spo2), 0x42] + [0] * (DF2_FRAMES - 4)
    data[_DF2_STAT2_FRAME] = _bits(r.flags, _DF2_STAT2)
    out = bytearray()
    for n, d in enumerate(data):
        frame = [DF2_START, status | (0x01 if n == 0 else 0), r.pleth & 0xFF, d]
        out += bytes([*frame, sum(frame) & 0xFF])
    return bytes(out)
