"""Cutting a serial byte stream into frames.

A framer never raises on garbage: it drops bytes until it finds the next plausible frame
start and counts what it dropped (``skipped``) and the frames it rejected on a checksum
(``bad_checksums``), so the link can tell the technician. ``feed`` may be given any
slice of the stream (one byte at a time, or many frames at once)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

# A frame is the raw bytes of one packet (or one text line), checksum still included.
Frame = bytes

# Longest text line we accept from a scale (an MC-780 line is about 1.4 KB); past it the line
# is garbage (no newline ever came) and is dropped.
MAX_LINE = 4096


class Framer(Protocol):
    skipped: int
    bad_checksums: int

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by ``data`` (possibly none). Never raises on bad bytes."""
        ...


class SyncBitFramer:
    """Fixed-length frames whose first byte has bit 7 set and the others clear
    (Contec legacy 5-byte stream, Nonin data format 8)."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._buf = bytearray()
        self.skipped = 0
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        buf = self._buf
        for byte in data:
            if byte & 0x80:
                self.skipped += len(buf)  # a sync byte in the middle: previous one truncated
                buf.clear()
                buf.append(byte)
            elif buf:
                buf.append(byte)
                if len(buf) == self.length:
                    frames.append(bytes(buf))
                    buf.clear()
            else:
                self.skipped += 1
        return frames


class HighBitFramer:
    """Contec's current protocol: a packet starts with a type byte with bit 7 clear and
    goes on with bytes that all have bit 7 set. ``lengths`` gives the length of the
    packet types we want; other packets are skipped whole."""

    def __init__(self, lengths: Mapping[int, int]) -> None:
        self.lengths = dict(lengths)
        self._buf = bytearray()
        self._want = 0  # length of the packet being collected, 0 when skipping
        self.skipped = 0
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        buf = self._buf
        for byte in data:
            if not byte & 0x80:  # a packet type: the start of a new packet
                if buf:
                    self.skipped += len(buf)  # truncated
                    buf.clear()
                self._want = self.lengths.get(byte, 0)
                if self._want:
                    buf.append(byte)
                else:
                    self.skipped += 1
            elif self._want:
                buf.append(byte)
                if len(buf) == self._want:
                    frames.append(bytes(buf))
                    buf.clear()
                    self._want = 0
            else:
                self.skipped += 1
        return frames


class ChecksumFramer:
    """Fixed-length frames that start with ``start`` and end with a sum-mod-256 checksum of
    the other bytes, grouped into packets of ``per_packet`` frames that begin with the
    frame whose ``is_first(frame)`` is true (Nonin data format 2: 25 frames of 5 bytes).
    A packet with a bad or missing frame is dropped whole."""

    def __init__(
        self,
        *,
        start: int,
        length: int,
        per_packet: int,
        is_first: Callable[[bytes], bool],
        plausible: Callable[[bytes], bool],
    ) -> None:
        self.start = start
        self.length = length
        self.per_packet = per_packet
        self.is_first = is_first
        self.plausible = plausible
        self._buf = bytearray()
        self._packet: list[bytes] = []
        self.skipped = 0
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        buf, n = self._buf, self.length
        i = 0
        while len(buf) - i >= n:
            candidate = bytes(buf[i : i + n])
            if candidate[0] != self.start or not self.plausible(candidate):
                i += 1
                self.skipped += 1
                continue
            if sum(candidate[:-1]) & 0xFF != candidate[-1]:
                self.bad_checksums += 1
                self._drop_packet()
                i += 1
                self.skipped += 1
                continue
            i += n
            packet = self._add(candidate)
            if packet is not None:
                frames.append(packet)
        del buf[:i]
        return frames

    def _add(self, frame: bytes) -> bytes | None:
        if self.is_first(frame):
            self._drop_packet()
            self._packet = [frame]
        elif self._packet:
            self._packet.append(frame)
        else:
            self.skipped += len(frame)  # mid-packet: wait for the next packet start
            return None
        if len(self._packet) == self.per_packet:
            packet = b"".join(self._packet)
            self._packet = []
            return packet
        return None

    def _drop_packet(self) -> None:
        self.skipped += sum(len(f) for f in self._packet)
        self._packet = []


class LineFramer:
    """Text lines ended by LF (CR stripped). Lines longer than MAX_LINE are dropped.
    ``mask7`` clears bit 7 of every byte (7-bit data read as 8-bit on a pty)."""

    def __init__(self, *, mask7: bool = False) -> None:
        self.mask7 = mask7
        self._buf = bytearray()
        self._overflow = False
        self.skipped = 0
        self.bad_checksums = 0

    def feed(self, data: bytes) -> list[Frame]:
        if self.mask7:
            data = bytes(b & 0x7F for b in data)
        frames: list[Frame] = []
        buf = self._buf
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                buf += data[start:]
                if len(buf) > MAX_LINE:
                    self.skipped += len(buf)
                    buf.clear()
                    self._overflow = True
                return frames
            buf += data[start:end]
            start = end + 1
            line = bytes(buf).strip(b"\r\x00 ")
            buf.clear()
            if self._overflow:
                self.skipped += len(line) + 1
                self._overflow = False
            elif len(line) > MAX_LINE:
                self.skipped += len(line) + 1
            elif line:
                frames.append(line)
