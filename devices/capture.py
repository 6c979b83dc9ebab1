"""Captures of what an instrument sends, for a technician to record in a field cabin and
a test (or ``kiosk devices replay``) to play back through the same link and decoder.

A capture is a UTF-8 JSON Lines file. The first line describes the instrument:

    {"capture": 1, "instrument": "oxymetre", "kind": "pulse_oximeter",
     "transport": "serial", "protocol": "nonin-df8", "line": "9600 8N1",
     "recorded": "2026-11-23T10:42:05+00:00", "note": "..."}

(BLE: ``"transport": "ble"``, ``"address"`` and ``"characteristics"``, the 16-bit UUIDs
the instrument offered, e.g. ``["2a35", "2a36", "2a19"]``; ``note`` is optional free
text, e.g. where the bytes come from). Every other line is one event, in order:

    {"t": 0.512, "op": "in", "hex": "8048611f"}               serial, device -> cabin
    {"t": 0.004, "op": "out", "hex": "027002020803"}          serial, cabin -> device
    {"t": 1.250, "op": "notify", "char": "2a35", "hex": "..."}  BLE notification/indication
    {"t": 0.020, "op": "read", "char": "2a19", "hex": "57"}     BLE read answered
    {"t": 2.000, "op": "write", "char": "2a52", "hex": "0106"}  BLE write by the cabin

``t`` is seconds since the recording started. A capture holds the instrument's raw
measurements: record a technician's own readings, never a patient's, and treat the file
as health data. Nothing of it is written to the logs."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol, cast, get_args

FORMAT_VERSION = 1
Op = Literal["in", "out", "notify", "read", "write"]
SERIAL_OPS: frozenset[str] = frozenset({"in", "out"})
BLE_OPS: frozenset[str] = frozenset({"notify", "read", "write"})
# A capture a technician sends is small; past this it is not one (or not ours).
MAX_EVENTS = 200_000


class CaptureError(ValueError):
    """The file is not a capture this cabin can replay (the message says why)."""


class Tap(Protocol):
    """Where a link reports the raw bytes it exchanges (a CaptureWriter when recording)."""

    def record(self, op: Op, data: bytes, char: str | None = None) -> None: ...

    def connected(self, characteristics: Sequence[str]) -> None:
        """BLE: the characteristics (UUIDs) the instrument offers, once connected."""


@dataclasses.dataclass(frozen=True)
class CaptureHeader:
    instrument: str
    kind: str
    transport: Literal["serial", "ble"]
    protocol: str | None = None  # serial
    line: str | None = None  # serial line settings, for the reader
    address: str | None = None  # BLE
    characteristics: tuple[str, ...] = ()  # BLE, 16-bit UUIDs in hex
    recorded: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"capture": FORMAT_VERSION}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value not in (None, "", ()):
                doc[field.name] = list(value) if isinstance(value, tuple) else value
        return doc


@dataclasses.dataclass(frozen=True)
class CaptureEvent:
    t: float
    op: Op
    data: bytes
    char: str | None = None  # BLE: 16-bit UUID in hex, e.g. "2a35"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"t": round(self.t, 4), "op": self.op}
        if self.char is not None:
            doc["char"] = self.char
        doc["hex"] = self.data.hex()
        return doc


@dataclasses.dataclass(frozen=True)
class Capture:
    header: CaptureHeader
    events: tuple[CaptureEvent, ...]

    def of(self, *ops: Op) -> list[CaptureEvent]:
        return [e for e in self.events if e.op in ops]


def short_uuid(uuid: str) -> str:
    """ "2a35" from "00002a35-0000-1000-8000-00805f9b34fb" (or from "2a35" itself)."""
    text = uuid.lower()
    return text[4:8] if len(text) == 36 else text


class CaptureWriter:
    """Writes a capture as the link reports bytes (one line each, flushed). The header
    goes out with the first event (a BLE link first says which characteristics the
    instrument offers); ``path`` must not exist yet."""

    def __init__(self, path: Path, header: CaptureHeader) -> None:
        self.path = path
        self.events = 0
        self._start = time.monotonic()
        recorded = header.recorded or datetime.now(UTC).replace(microsecond=0).isoformat()
        self._header: CaptureHeader | None = dataclasses.replace(header, recorded=recorded)
        self._file: IO[str] = path.open("x", encoding="utf-8")

    def connected(self, characteristics: Sequence[str]) -> None:
        if self._header is not None:
            chars = tuple(short_uuid(c) for c in characteristics)
            self._header = dataclasses.replace(self._header, characteristics=chars)
            self._write_header()

    def record(self, op: Op, data: bytes, char: str | None = None) -> None:
        if self._file.closed:
            return
        self._write_header()
        event = CaptureEvent(time.monotonic() - self._start, op, bytes(data), char)
        self._line(event.to_json())
        self.events += 1

    def close(self) -> None:
        if not self._file.closed:
            self._write_header()
            self._file.close()

    def _write_header(self) -> None:
        if self._header is not None:
            self._line(self._header.to_json())
            self._header = None

    def _line(self, doc: dict[str, Any]) -> None:
        self._file.write(json.dumps(doc, separators=(",", ":")) + "\n")
        self._file.flush()


def write_capture(path: Path, capture: Capture) -> None:
    lines = [capture.header.to_json(), *(e.to_json() for e in capture.events)]
    path.write_text("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in lines), "utf-8")


def read_capture(path: Path) -> Capture:
    """The capture in ``path``; CaptureError (a ValueError) naming the line if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureError(f"{path}: cannot be read ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise CaptureError(f"{path}: empty file, not a capture")
    if len(lines) > MAX_EVENTS + 1:
        raise CaptureError(f"{path}: more than {MAX_EVENTS} events, not a capture")
    header = _header(_json(lines[0], path, 1), path)
    allowed = SERIAL_OPS if header.transport == "serial" else BLE_OPS
    events = tuple(
        _event(_json(line, path, n), path, n, allowed) for n, line in enumerate(lines[1:], 2)
    )
    return Capture(header, events)


def _json(line: str, path: Path, n: int) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError:
        raise CaptureError(f"{path}, line {n}: not JSON") from None
    if not isinstance(doc, dict):
        raise CaptureError(f"{path}, line {n}: not a JSON object")
    return doc


def _text(doc: dict[str, Any], key: str, where: str, required: bool = True) -> str | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise CaptureError(f"{where}: {key!r} must be a non-empty string")
    return value


def _header(doc: dict[str, Any], path: Path) -> CaptureHeader:
    where = f"{path}, line 1"
    if doc.get("capture") != FORMAT_VERSION:
        raise CaptureError(f"{where}: not a capture (version {FORMAT_VERSION} header expected)")
    transport = doc.get("transport")
    if transport not in ("serial", "ble"):
        raise CaptureError(f"{where}: transport must be 'serial' or 'ble'")
    chars = doc.get("characteristics", [])
    if not isinstance(chars, list) or not all(isinstance(c, str) for c in chars):
        raise CaptureError(f"{where}: characteristics must be a list of UUIDs")
    header = CaptureHeader(
        instrument=_text(doc, "instrument", where) or "",
        kind=_text(doc, "kind", where) or "",
        transport=transport,
        protocol=_text(doc, "protocol", where, required=transport == "serial"),
        line=_text(doc, "line", where, required=False),
        address=_text(doc, "address", where, required=False),
        characteristics=tuple(short_uuid(c) for c in chars),
        recorded=_text(doc, "recorded", where, required=False) or "",
        note=_text(doc, "note", where, required=False) or "",
    )
    if transport == "ble" and not header.characteristics:
        raise CaptureError(f"{where}: a BLE capture lists the instrument's characteristics")
    return header


def _event(doc: dict[str, Any], path: Path, n: int, allowed: frozenset[str]) -> CaptureEvent:
    where = f"{path}, line {n}"
    t, op = doc.get("t"), doc.get("op")
    if not isinstance(t, int | float) or isinstance(t, bool) or t < 0:
        raise CaptureError(f"{where}: 't' must be a number of seconds, 0 or more")
    if op not in allowed or op not in get_args(Op):
        raise CaptureError(f"{where}: op must be one of {sorted(allowed)}, got {op!r}")
    try:
        data = bytes.fromhex(_text(doc, "hex", where) or "")
    except ValueError:
        raise CaptureError(f"{where}: 'hex' is not hexadecimal") from None
    char = _text(doc, "char", where, required=op in BLE_OPS)
    return CaptureEvent(float(t), cast(Op, op), data, None if char is None else short_uuid(char))
