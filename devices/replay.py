"""Plays a capture (devices/capture.py) through the cabin's own link and decoders, and
reports what the cabin would have recorded.

Serial: the capture's "in" bytes are written, with their recorded timing, to a
pseudo-terminal that a real SerialLink (pyserial) opens as it opens an instrument; until
the device's first bytes, the player waits for the link's own connect commands (Nonin
format selection, Contec start) so the ACK and the stream come when the link expects them.
BLE: a BleLink whose BleakClient is replaced by one serving the capture: its
characteristics, its recorded reads, and its notifications, each write of the link (RACP)
waited for before what followed it in the recording.

Timing matters where the link is timed (a streaming oximeter's repeated value is reported
once a second): ``speed`` 1 plays as recorded, 0 as fast as possible."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
import tty
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bleak.exc import BleakError

from devices.ble import profiles
from devices.ble.link import BleLink, GattClient, Notify
from devices.capture import Capture, CaptureError, CaptureEvent, Op
from devices.config import InstrumentKind, InstrumentSettings
from devices.link import LinkSink
from devices.measurement import Measurement
from devices.serial_link import SerialLink
from devices.serialproto import protocol
from kiosk.events import InstrumentState

# How long the player waits for the link to do what it did in the recording (open the
# port, send its connect commands, write to the RACP) before going on without it.
LINK_WAIT_S = 5.0
# After the last event, the link has this long to take the bytes in.
DRAIN_S = 5.0
# A pty's buffer is a few KB: a fast replay waits this long when it is full.
PTY_FULL_WAIT_S = 0.005
# Replayed instruments have no address of their own.
REPLAY_ADDRESS = "00:00:00:00:00:00"


@dataclasses.dataclass
class ReplayResult:
    measurements: list[Measurement]
    states: list[tuple[InstrumentState, str]]
    counters: dict[str, int]


class _Sink:
    def __init__(self, outer: LinkSink | None) -> None:
        self.outer = outer
        self.measurements: list[Measurement] = []
        self.states: list[tuple[InstrumentState, str]] = []
        self.ready = asyncio.Event()

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        self.states.append((state, detail))
        if state in ("ready", "low_battery"):
            self.ready.set()
        if self.outer is not None:
            self.outer.state(state, detail, battery)

    def measurement(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)
        if self.outer is not None:
            self.outer.measurement(measurement)


async def _until(condition: Callable[[], bool], within_s: float, changed: asyncio.Event) -> bool:
    """Wait for ``condition`` (re-checked whenever ``changed`` is set); False on timeout."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within_s):
            while not condition():
                changed.clear()
                await changed.wait()
    return condition()


async def _pause(event: CaptureEvent, previous: float, speed: float) -> float:
    if speed > 0 and event.t > previous:
        await asyncio.sleep((event.t - previous) / speed)
    return max(previous, event.t)


async def replay(
    capture: Capture, sink: LinkSink | None = None, speed: float = 1.0
) -> ReplayResult:
    """Plays ``capture``; what the link reported. CaptureError if the capture names an
    unknown protocol or kind."""
    if speed < 0:
        raise ValueError("the replay speed is 0 (as fast as possible) or more")
    recorder = _Sink(sink)
    if capture.header.transport == "serial":
        counters = await _replay_serial(capture, recorder, speed)
    else:
        counters = await _replay_ble(capture, recorder, speed)
    return ReplayResult(recorder.measurements, recorder.states, counters)


# -- serial ---------------------------------------------------------------------------


class _ReplayPort:
    """A pty pair; the link opens the slave at ``path`` as it would open the device."""

    def __init__(self, directory: Path) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = directory / "instrument.tty"
        self.path.symlink_to(os.ttyname(self._slave))
        self.from_host = 0
        self.changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(self.master, self._on_readable)

    def _on_readable(self) -> None:
        try:
            self.from_host += len(os.read(self.master, 4096))
        except OSError:
            return
        self.changed.set()

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except BlockingIOError:
                await asyncio.sleep(PTY_FULL_WAIT_S)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)
        os.close(self._slave)


class _Wake:
    """A tap that only wakes the player whenever the link takes bytes in or writes."""

    def __init__(self, changed: asyncio.Event) -> None:
        self.changed = changed

    def record(self, op: Op, data: bytes, char: str | None = None) -> None:
        self.changed.set()

    def connected(self, characteristics: Sequence[str]) -> None:
        self.changed.set()


class _CountingSink(_Sink):
    """Wakes the player whenever the link reports something."""

    def __init__(self, inner: _Sink, changed: asyncio.Event) -> None:
        super().__init__(inner)
        self.changed = changed

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        super().state(state, detail, battery)
        self.changed.set()


async def _replay_serial(capture: Capture, sink: _Sink, speed: float) -> dict[str, int]:
    header = capture.header
    try:
        proto = protocol(header.protocol or "")
    except KeyError as exc:
        raise CaptureError(f"the capture's protocol: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="cabin-replay-") as tmp:
        port = _ReplayPort(Path(tmp))
        settings = InstrumentSettings(name=_name(header.instrument), kind=proto.kind,
                                      transport="serial", protocol=proto.name,
                                      port=str(port.path))  # fmt: skip
        link = SerialLink(settings, proto, tap=_Wake(port.changed))
        watched = _CountingSink(sink, port.changed)
        task = asyncio.create_task(link.run(watched), name="replay-serial-link")
        try:
            await _play_serial(capture.events, port, link, watched, speed)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            port.close()
    return {"frames": link.frames, "skipped_bytes": link.skipped,
            "bad_checksums": link.bad_checksums, "undecodable": link.decode_errors,
            "stored_not_reported": link.stored_skipped}  # fmt: skip


async def _play_serial(
    events: Sequence[CaptureEvent], port: _ReplayPort, link: SerialLink, sink: _Sink, speed: float
) -> None:
    opened = await _until(lambda: port.from_host > 0 or sink.ready.is_set(), LINK_WAIT_S,
                          port.changed)  # fmt: skip
    if not opened:
        raise CaptureError("the link did not open the replayed port")
    handshake, sent, previous = True, 0, 0.0
    total_in = sum(len(e.data) for e in events if e.op == "in")
    for event in events:
        if event.op == "out":
            sent += len(event.data)
            if handshake:  # the link's own connect commands; later ones (keep-alives) it times
                await _until(_host_sent(port, sent), LINK_WAIT_S, port.changed)
            continue
        handshake = False
        previous = await _pause(event, previous, speed)
        await port.write(event.data)
    await _until(lambda: link.bytes_in >= total_in and sink.ready.is_set(), DRAIN_S, port.changed)


def _host_sent(port: _ReplayPort, count: int) -> Callable[[], bool]:
    return lambda: port.from_host >= count


def _name(instrument: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in instrument.lower())
    return cleaned.strip("-_") or "replay"


# -- BLE ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Char:
    uuid: str


@dataclasses.dataclass(frozen=True)
class _Service:
    characteristics: Sequence[_Char]


class ReplayClient:
    """The BleakClient of a replay: the capture's characteristics, reads and
    notifications; ``done`` is set once every event has been played."""

    def __init__(
        self,
        capture: Capture,
        lost: asyncio.Event,
        speed: float,
        ready: Callable[[], bool] = lambda: False,
        ask: Callable[[], None] = lambda: None,
    ) -> None:
        self.capture = capture
        self.lost = lost
        self.speed = speed
        # A write the link did not make by itself is one it makes when the cabin asks for
        # a measurement (a glucometer's record download): once ``ready``, ``ask``.
        self.ready = ready
        self.ask = ask
        self.done = asyncio.Event()
        self.changed = asyncio.Event()
        chars = capture.header.characteristics
        self._chars = {c: _Char(profiles.sig_uuid(int(c, 16))) for c in chars}
        reads = capture.of("read")
        self._reads = {c: deque(e.data for e in reads if e.char == c) for c in self._chars}
        self._callbacks: dict[str, Notify] = {}
        self._counts: dict[Op, int] = {"read": 0, "write": 0}
        self.player: asyncio.Task[None] | None = None

    @property
    def services(self) -> list[_Service]:
        return [_Service(list(self._chars.values()))]

    async def connect(self) -> bool:
        if self.player is None:
            self.player = asyncio.create_task(self._play(), name="replay-ble-player")
        return True

    async def disconnect(self) -> bool:
        self.lost.set()
        return True

    async def start_notify(self, char_specifier: str, callback: Notify) -> None:
        self._callbacks[char_specifier] = callback
        self.changed.set()

    async def read_gatt_char(self, char_specifier: str) -> bytearray:
        self._counts["read"] += 1
        self.changed.set()
        recorded = self._reads.get(_short(char_specifier))
        if not recorded:
            raise BleakError(f"the capture has no read of {char_specifier}")
        return bytearray(recorded.popleft())

    async def write_gatt_char(
        self, char_specifier: str, data: bytes, response: bool = True
    ) -> None:
        self._counts["write"] += 1
        self.changed.set()

    def _done(self, op: Op, count: int) -> Callable[[], bool]:
        return lambda: self._counts[op] >= count

    async def _ask_for(self, done: Callable[[], bool]) -> None:
        """Unless the link writes by itself (while connecting), ask once it is ready."""
        if await _until(lambda: done() or self.ready(), LINK_WAIT_S, self.changed) and not done():
            self.ask()

    def _subscribed(self, uuid: str) -> Callable[[], bool]:
        return lambda: uuid in self._callbacks

    async def _play(self) -> None:
        previous = 0.0
        seen: dict[Op, int] = {"read": 0, "write": 0}
        for event in self.capture.events:
            if event.op in seen:  # the link reads and writes by itself: wait for it
                seen[event.op] += 1
                done = self._done(event.op, seen[event.op])
                if event.op == "write":
                    await self._ask_for(done)
                await _until(done, LINK_WAIT_S, self.changed)
                continue
            char = self._chars.get(event.char or "")
            if char is None:
                continue  # a notification of a characteristic the header does not list
            await _until(self._subscribed(char.uuid), LINK_WAIT_S, self.changed)
            previous = await _pause(event, previous, self.speed)
            callback = self._callbacks.get(char.uuid)
            if callback is not None:
                callback(char, bytearray(event.data))
        self.done.set()


def _short(uuid: str) -> str:
    return uuid.lower()[4:8] if len(uuid) == 36 else uuid.lower()


class ReplayBleLink(BleLink):
    """A BleLink on a capture instead of BlueZ."""

    def __init__(self, settings: InstrumentSettings, capture: Capture, speed: float) -> None:
        super().__init__(settings)
        self.capture = capture
        self.speed = speed
        self.client: ReplayClient | None = None
        self.client_made = asyncio.Event()
        self.requests: list[asyncio.Task[bool]] = []

    async def _new_client(self, lost: asyncio.Event) -> GattClient:
        if self.client is not None:  # reconnecting after the capture ended: nothing more
            await asyncio.Event().wait()
        self.client = ReplayClient(self.capture, lost, self.speed, self._ready, self._ask)
        self.client_made.set()
        return self.client

    def _ready(self) -> bool:
        return self._reported is not None and self._reported[0] in ("ready", "low_battery")

    def _ask(self) -> None:
        """As the supervisor does on MeasurementRequested."""
        self.requests.append(asyncio.create_task(self.request_measurement()))

    def _report(self, state: InstrumentState, detail: str | None) -> None:
        super()._report(state, detail)
        if self.client is not None:
            self.client.changed.set()

    async def close(self) -> None:
        tasks: list[asyncio.Task[Any]] = [*self.requests]
        if self.client is not None and self.client.player is not None:
            tasks.append(self.client.player)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _replay_ble(capture: Capture, sink: _Sink, speed: float) -> dict[str, int]:
    header = capture.header
    try:
        kind = InstrumentKind(header.kind)
    except ValueError:
        raise CaptureError(f"the capture's kind {header.kind!r} is not known") from None
    settings = InstrumentSettings(name=_name(header.instrument), kind=kind, transport="ble",
                                  address=header.address or REPLAY_ADDRESS)  # fmt: skip
    link = ReplayBleLink(settings, capture, speed)
    task = asyncio.create_task(link.run(sink), name="replay-ble-link")
    duration = capture.events[-1].t / speed if capture.events and speed > 0 else 0.0
    try:
        async with asyncio.timeout(LINK_WAIT_S * 4 + duration):
            await link.client_made.wait()
            assert link.client is not None
            await link.client.done.wait()
    except TimeoutError:
        raise CaptureError("the replayed link did not take every event of the capture") from None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await link.close()
    notifications = len(capture.of("notify"))
    return {"notifications": notifications, "measurements": len(sink.measurements)}
