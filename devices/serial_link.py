"""A serial instrument: pyserial's asyncio transport → framer → decoder → sink.

The link opens the configured port with its protocol's line settings, sends the
protocol's connect commands (and waits for the ACK of a Nonin format selection), keeps
the device streaming with keep-alives, and reports decoded measurements. When the port
is missing, unplugged or fails, it reports "absent" and reopens it with capped backoff
(a /dev/serial/by-id name comes back when the device is plugged in again). Garbage,
bad checksums and undecodable frames are counted, skipped and shown to the technician
in the state's detail; they never stop the link. Spot-checks a device sends "from memory"
(taken while no host was connected, possibly an earlier patient's) are never reported.
With a ``tap`` (``kiosk devices record``), every byte in and out is also handed to it."""

from __future__ import annotations

import asyncio
import logging
import termios
import time
from collections.abc import Coroutine
from typing import Any

import serial_asyncio_fast

from devices.capture import Tap
from devices.config import InstrumentSettings
from devices.link import InstrumentLink, LinkSink
from devices.measurement import DecodeError, Measurement
from devices.serialproto import SerialProtocol, protocol
from devices.serialproto.nonin import ACK, NAK
from kiosk.events import InstrumentState

log = logging.getLogger(__name__)

# Reopening a missing port: quick at first (a replug is seen within a second), then no
# more often than every 10 s so an absent device costs nothing.
REOPEN_FIRST_S = 0.2
REOPEN_MAX_S = 10.0
# After a NAK the device will not change its mind soon: retry less often.
REFUSED_RETRY_S = 30.0
# A Nonin answers a format selection within a few frame times.
ACK_TIMEOUT_S = 2.0
# Closing hands the port to a thread; it returns at once unless the driver hangs.
CLOSE_TIMEOUT_S = 2.0
# The same value from a streaming oximeter (60 packets/s) is reported at most this often.
REPEAT_REPORT_S = 1.0
# A streaming device (60 or 1 frames a second) this long silent is off.
SILENCE_S = 10.0
# Noise counters reach the technician at most this often.
DETAIL_EVERY_S = 1.0


# A spot-check the device stored while no host was connected (Nonin format 13).
FROM_MEMORY = "from_memory"


class FormatRefused(Exception):
    """The device answered NAK to the format selection."""


class _PortProtocol(asyncio.Protocol):
    def __init__(self, link: SerialLink) -> None:
        self.link = link
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        # Separate from ``lost``, which a cancelled waiter cancels with it.
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.link._on_bytes(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)
        self.closed.set()


async def _wait_closed(port: _PortProtocol) -> None:
    """Until the transport has closed the port (in a worker thread), at most
    CLOSE_TIMEOUT_S. A link cancelled meanwhile still waits, then stops: nothing of the
    port outlives the link's task."""
    cancelled = False
    deadline = asyncio.get_running_loop().time() + CLOSE_TIMEOUT_S
    while not port.closed.is_set():
        try:
            async with asyncio.timeout_at(deadline):
                await port.closed.wait()
        except TimeoutError:
            break
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


class SerialLink(InstrumentLink):
    def __init__(
        self,
        settings: InstrumentSettings,
        proto: SerialProtocol | None = None,
        *,
        tap: Tap | None = None,
    ) -> None:
        super().__init__(settings)
        if proto is None:
            if settings.protocol is None:
                raise ValueError(f"instrument {settings.name}: a serial link needs a protocol")
            proto = protocol(settings.protocol)
        if settings.port is None:
            raise ValueError(f"instrument {settings.name}: a serial link needs a port")
        self.protocol = proto
        self.port = settings.port
        self.skipped = 0
        self.bad_checksums = 0
        self.decode_errors = 0
        self.frames = 0
        self.bytes_in = 0
        self.stored_skipped = 0  # "from memory" records, not reported
        self.tap = tap
        self._framer = proto.framer()
        self._sink: LinkSink | None = None
        self._transport: asyncio.Transport | None = None
        self._ack: asyncio.Future[int] | None = None
        self._state: InstrumentState = "absent"
        self._detail = ""
        self._last: tuple[object, float] | None = None
        self._detail_at = 0.0
        self._noise_seen = 0
        self.silence_s = SILENCE_S
        self._last_frame_at = 0.0
        self._silent = False

    # -- the supervisor's side ---------------------------------------------------------

    async def run(self, sink: LinkSink) -> None:
        self._sink = sink
        delay = REOPEN_FIRST_S
        while True:
            try:
                transport, port = await self._open()
            # pyserial's SerialException is an OSError.
            except (OSError, ValueError, termios.error) as exc:
                self._set_state("absent", f"{self.port} cannot be opened ({_reason(exc)})")
                await asyncio.sleep(delay)
                delay = min(delay * 2, REOPEN_MAX_S)
                continue
            try:
                await self._session(transport, port)
                delay = REOPEN_FIRST_S
                self._set_state("absent", f"{self.port} unplugged or failed")
            except FormatRefused as exc:
                self._set_state("error", str(exc))
                delay = REFUSED_RETRY_S
            finally:
                self._transport = None
                if not transport.is_closing():  # a read error has already closed it
                    transport.abort()
                await _wait_closed(port)
            await asyncio.sleep(delay)

    async def request_measurement(self) -> bool:
        command = self.protocol.start_measurement
        if command is None or self._transport is None or self._transport.is_closing():
            return False
        self._write(self._transport, command)
        return True

    def _write(self, transport: asyncio.Transport, data: bytes) -> None:
        if self.tap is not None:
            self.tap.record("out", data)
        transport.write(data)

    # -- one connection ----------------------------------------------------------------

    async def _open(self) -> tuple[asyncio.Transport, _PortProtocol]:
        p = self.protocol
        self._framer = p.framer()
        port = _PortProtocol(self)
        line = {"baudrate": p.baudrate, "bytesize": p.bytesize, "parity": p.parity}
        try:
            transport, _ = await serial_asyncio_fast.create_serial_connection(
                asyncio.get_running_loop(), lambda: port, self.port, stopbits=p.stopbits, **line
            )
        except termios.error:
            if p.bytesize != 7:
                raise
            # Some adapters (and ptys) refuse 7-bit characters with parity. 7O1 on the
            # wire is 8N1 with the parity bit in bit 7, which the framer masks.
            log.info("instrument %s: reading 7-bit data as 8N1", self.settings.name)
            transport, _ = await serial_asyncio_fast.create_serial_connection(
                asyncio.get_running_loop(),
                lambda: port,
                self.port,
                baudrate=p.baudrate,
                bytesize=8,
                parity="N",
                stopbits=p.stopbits,
            )
        return transport, port

    async def _session(self, transport: asyncio.Transport, port: _PortProtocol) -> None:
        p = self.protocol
        if p.expects_ack:
            self._ack = asyncio.get_running_loop().create_future()
        for command in p.on_connect:
            self._write(transport, command)
        if self._ack is not None:
            await self._wait_ack(port)
            if port.lost.done():
                return
        self._transport = transport
        self._set_state("ready", f"{self.port} open, {p.name} at {p.line_settings}")
        self._last_frame_at, self._silent = time.monotonic(), False
        chores: list[Coroutine[Any, Any, None]] = []
        if p.streams:
            chores.append(self._watch_silence(transport))
        if p.keep_alive is not None and p.keep_alive_s is not None:
            chores.append(self._keep_alive(transport, p.keep_alive, p.keep_alive_s))
        tasks = [asyncio.create_task(chore) for chore in chores]
        try:
            await port.lost
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _wait_ack(self, port: _PortProtocol) -> None:
        assert self._ack is not None
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                waits: list[asyncio.Future[Any]] = [self._ack, port.lost]
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            log.warning("instrument %s: no ACK to the format selection", self.settings.name)
            return  # some firmwares have a fixed format and stay silent: go on
        finally:
            ack, self._ack = self._ack, None
        if ack in done and ack.result() == NAK:
            raise FormatRefused(f"{self.protocol.name}: the device refused the data format (NAK)")

    async def _watch_silence(self, transport: asyncio.Transport) -> None:
        """A streaming device that goes quiet was switched off (the cable's USB adapter
        stays): "absent", and the connect commands again so it streams once back on."""
        while not transport.is_closing():
            await asyncio.sleep(self.silence_s / 4)
            if time.monotonic() - self._last_frame_at < self.silence_s:
                continue
            self._silent = True
            self._set_state(
                "absent",
                f"{self.port} open but silent for {self.silence_s:g} s: switched off, "
                "or not this protocol?",
            )
            for command in self.protocol.on_connect:
                self._write(transport, command)
            self._last_frame_at = time.monotonic()

    async def _keep_alive(self, transport: asyncio.Transport, command: bytes, every: float) -> None:
        while not transport.is_closing():
            await asyncio.sleep(every)
            self._write(transport, command)

    # -- bytes in ----------------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        self.bytes_in += len(data)
        if self.tap is not None:
            self.tap.record("in", data)
        if self._ack is not None and not self._ack.done():
            data = self._take_ack(data)
        framer = self._framer
        for frame in framer.feed(data):
            self.frames += 1
            try:
                measurement = self.protocol.decode(frame)
            except DecodeError:
                self.decode_errors += 1
                continue
            self._last_frame_at = time.monotonic()
            if self._silent:
                self._silent = False
                self._set_state("ready", f"{self.port}: data again")
            if FROM_MEMORY in measurement.status:
                self.stored_skipped += 1
                continue
            self._report(measurement)
        self.skipped, self.bad_checksums = framer.skipped, framer.bad_checksums
        self._maybe_report_noise()

    def _take_ack(self, data: bytes) -> bytes:
        """Drops what precedes the ACK/NAK (frames of the old format) and keeps the rest."""
        assert self._ack is not None
        for i, byte in enumerate(data):
            if byte in (ACK, NAK):
                self._ack.set_result(byte)
                return data[i + 1 :]
        return b""

    def _report(self, measurement: Measurement) -> None:
        key = (measurement.observations, measurement.status, measurement.intermediate)
        now = time.monotonic()
        if (
            self._last is not None
            and self._last[0] == key
            and now - self._last[1] < REPEAT_REPORT_S
        ):
            return
        self._last = (key, now)
        assert self._sink is not None
        self._sink.measurement(measurement)

    def _maybe_report_noise(self) -> None:
        noise = self.skipped + self.bad_checksums + self.decode_errors
        now = time.monotonic()
        if noise == self._noise_seen or now - self._detail_at < DETAIL_EVERY_S:
            return
        self._noise_seen, self._detail_at = noise, now
        self._set_state(self._state, self.noise_detail(), force=True)

    def noise_detail(self) -> str:
        return (
            f"line noise: {self.skipped} byte(s) skipped, {self.bad_checksums} bad checksum(s), "
            f"{self.decode_errors} undecodable frame(s) of {self.frames}"
        )

    def _set_state(self, state: InstrumentState, detail: str, *, force: bool = False) -> None:
        if (state, detail) == (self._state, self._detail) and not force:
            return
        self._state, self._detail = state, detail
        if self._sink is not None:
            self._sink.state(state, detail)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."
