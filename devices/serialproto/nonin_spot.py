"""Nonin data format 13 (SmartPoint spot-check), 9600 8N1: one binary packet per
measurement, the 9560's default format.

Source: Nonin's "Onyx II Model 9560 ... OEM Specification and Technical Information"
(6470-000-01), section "Data Format 13 - SmartPoint Algorithm", shipped as "Nonin 9560
Bluetooth Specification.pdf" in github.com/mattjlewis/NoninPulseOx; the same layout is
read by that repository's io/DataFormat13Serialiser.java and by rprobinson/MediPi
(N9560Measurement.java, which also reads the BCD date and a 23-byte variant).

    00          null start sync
    02          STX
    00 0D       packet type (format 13), big-endian
    LL LL       data length, big-endian: 14 (0x000E) or more (the data can grow)
    data        century (BCD, 0x20), year, month, day, hour, minute, second, hundredths
                of a second (BCD each); status MSB (bit 1 SmartPoint: high-quality
                measurement, bit 0 no measurement); status LSB (bit 4 from memory, bit 0
                low battery); HR MSB (bit 0: HR bit 8), HR LSB; a reserved byte; SpO2
                (bits 6-0); then any further bytes the length announces (MediPi reads 9
                more: a serial number)
    CS          checksum: the low byte of the sum of the data bytes
    03          ETX
HR 511 and SpO2 127 mean "no value". The 9560 keeps at least 20 measurements taken while
no host was connected and sends them first, "from memory"."""

from __future__ import annotations

from datetime import datetime

from devices.measurement import DecodeError, Measurement
from devices.serialproto.nonin import check_flags, checked_reading, spo2_byte
from devices.serialproto.readings import OximeterReading, Reading, expect_type

HEADER = b"\x00\x02\x00\x0d"
ETX = 0x03
MIN_DATA = 14
# Longest data section accepted; past it the length bytes are line noise.
MAX_DATA = 64
ENVELOPE = len(HEADER) + 2 + 2  # header, length; checksum, ETX
_STATUS_MSB = {0x02: "smartpoint", 0x01: "no_measurement"}
_STATUS_LSB = {0x10: "from_memory", 0x01: "low_battery"}
FLAGS = {*_STATUS_MSB.values(), *_STATUS_LSB.values()}


class Df13Framer:
    """Cuts format 13 packets out of the stream: header, length, data, checksum, ETX. A
    candidate with a bad checksum or without its ETX is counted and skipped, and the
    search goes on one byte later (a real packet may start inside it)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        packets: list[bytes] = []
        while True:
            start = buf.find(HEADER)
            if start < 0:
                keep = _partial_header(buf)
                self.skipped += len(buf) - keep
                del buf[: len(buf) - keep]
                return packets
            self.skipped += start
            del buf[:start]
            if len(buf) < len(HEADER) + 2:
                return packets
            length = int.from_bytes(buf[4:6], "big")
            if not MIN_DATA <= length <= MAX_DATA:
                self.skipped += 1
                del buf[:1]
                continue
            total = length + ENVELOPE
            if len(buf) < total:
                return packets
            packet = bytes(buf[:total])
            if packet[-1] != ETX or sum(packet[6:-2]) & 0xFF != packet[-2]:
                self.bad_checksums += packet[-1] == ETX
                self.skipped += 1
                del buf[:1]
                continue
            packets.append(packet)
            del buf[:total]


def _partial_header(buf: bytearray) -> int:
    """How many trailing bytes of ``buf`` could be the start of a header."""
    for keep in range(min(len(HEADER) - 1, len(buf)), 0, -1):
        if buf[-keep:] == HEADER[:keep]:
            return keep
    return 0


def df13_framer() -> Df13Framer:
    return Df13Framer()


def _bcd(byte: int, what: str) -> int:
    high, low = byte >> 4, byte & 0x0F
    if high > 9 or low > 9:
        raise DecodeError(f"Nonin format 13: the {what} byte 0x{byte:02X} is not BCD")
    return high * 10 + low


def _to_bcd(value: int) -> int:
    return (value // 10) << 4 | value % 10


def _timestamp(raw: bytes) -> datetime | None:
    century, year, month, day, hour, minute, second, hundredths = (
        _bcd(b, what)
        for b, what in zip(
            raw,
            ("century", "year", "month", "day", "hour", "minute", "second", "fraction"),
            strict=True,
        )
    )
    if month == 0 and day == 0:
        return None  # the clock was never set (it is lost with the batteries)
    try:
        return datetime(century * 100 + year, month, day, hour, minute, second, hundredths * 10_000)
    except ValueError:
        raise DecodeError(f"Nonin format 13: {raw[:7].hex()} is not a valid date") from None


def df13_decode(packet: bytes) -> Measurement:
    if len(packet) < MIN_DATA + ENVELOPE or packet[:4] != HEADER:
        raise DecodeError("not a Nonin format 13 packet (00 02 00 0D, length, data, CS, 03)")
    length = int.from_bytes(packet[4:6], "big")
    if length != len(packet) - ENVELOPE:
        raise DecodeError(
            f"Nonin format 13: the packet announces {length} data bytes "
            f"but carries {len(packet) - ENVELOPE}"
        )
    if packet[-1] != ETX:
        raise DecodeError("Nonin format 13: the packet does not end with ETX (03)")
    data = packet[6:-2]
    if sum(data) & 0xFF != packet[-2]:
        raise DecodeError("Nonin format 13: bad checksum")
    status_msb, status_lsb, hr_msb, hr_lsb, _reserved, spo2 = data[8:14]
    flags = {n for bit, n in _STATUS_MSB.items() if status_msb & bit}
    flags |= {n for bit, n in _STATUS_LSB.items() if status_lsb & bit}
    hr = (hr_msb & 0x01) << 8 | hr_lsb
    reading = checked_reading(hr, spo2 & 0x7F, 0, frozenset(flags), "Nonin format 13")
    return OximeterReading(
        reading.spo2, reading.pulse, 0, reading.flags, _timestamp(data[:8])
    ).measurement()


def df13_encode(reading: Reading) -> bytes:
    r = expect_type(reading, OximeterReading)
    check_flags(r, FLAGS)
    if r.timestamp is None:
        when = bytes(8)
    else:
        t = r.timestamp
        parts = (t.year // 100, t.year % 100, t.month, t.day, t.hour, t.minute, t.second,
                 t.microsecond // 10_000)  # fmt: skip
        when = bytes(_to_bcd(p) for p in parts)
    hr = 511 if r.pulse is None else r.pulse
    if not 0 <= hr <= 511:
        raise ValueError(f"heart rate {hr} is outside 0-511")
    status_msb = sum(bit for bit, n in _STATUS_MSB.items() if n in r.flags)
    status_lsb = sum(bit for bit, n in _STATUS_LSB.items() if n in r.flags)
    data = when + bytes([status_msb, status_lsb, hr >> 8, hr & 0xFF, 0, spo2_byte(r.spo2)])
    return HEADER + len(data).to_bytes(2, "big") + data + bytes([sum(data) & 0xFF, ETX])
