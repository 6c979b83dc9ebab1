"""Simulated serial instruments on a pseudo-terminal.

The simulator holds the master side of a pty pair and publishes the slave side at a
stable path (a symlink, like /dev/serial/by-id/...), so the real SerialLink opens it as
it would open the device. It answers the host's commands as the device does (Contec
start/stop live, Nonin format selection with ACK/NAK), streams realistic readings at the
device's rate, and can misbehave on demand: one byte at a time, dropped bytes, garbage,
unplug (both pty ends closed, symlink removed) and replug (a new pty at the same path)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from pathlib import Path

from devices.serialproto import Reading, SerialProtocol, contec, nonin

# Pause between bytes in one-byte-at-a-time mode: long enough that the reader sees each
# byte in its own read (as at 9600 baud, ~1 ms a byte).
BYTE_GAP_S = 0.001
# The Tanita sends a line per weighing; the simulated patient steps on every few seconds.
WEIGHING_EVERY_S = 8.0
# A burst of line noise (a motor starting, a loose connector).
GARBAGE_BYTES = 16


class SerialSimulator:
    def __init__(
        self,
        proto: SerialProtocol,
        link: Path,
        *,
        seed: int | None = None,
        stream: bool = False,
        accepted_formats: set[int] | None = None,
        answers_commands: bool = True,
    ) -> None:
        self.protocol = proto
        self.link = link
        self.rng = random.Random(seed)
        self.stream = stream  # send readings by itself at the device's rate
        self.one_byte_at_a_time = False
        self.drop_rate = 0.0  # probability of losing each byte
        self.garbage_every = 0  # streaming: a burst of noise every N frames (0: never)
        self.accepted_formats = accepted_formats  # Nonin: None = only the protocol's own
        self.answers_commands = answers_commands  # False: a firmware that never answers
        self.commands: list[bytes] = []  # what the host sent, one entry per command
        self.streaming = proto.start_measurement is None  # Contec waits for "start live"
        self.master: int | None = None
        self._slave: int | None = None
        self._inbox = bytearray()
        self._command_framer = contec.command_framer()
        self._writer_lock = asyncio.Lock()
        self._streamer: asyncio.Task[None] | None = None
        self._received = asyncio.Event()

    @property
    def plugged(self) -> bool:
        return self.master is not None

    async def start(self) -> Path:
        self.plug()
        if self.stream:
            self._streamer = asyncio.get_running_loop().create_task(
                self._stream(), name=f"sim-{self.protocol.name}"
            )
        return self.link

    async def stop(self) -> None:
        if self._streamer is not None:
            self._streamer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._streamer
            self._streamer = None
        self.unplug()

    # -- plug / unplug -----------------------------------------------------------------

    def plug(self) -> None:
        """A new pty pair, published at ``self.link`` (atomically re-pointed)."""
        if self.master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        asyncio.get_running_loop().add_reader(master, self._on_readable)

    def unplug(self) -> None:
        """As if the cable were pulled: the device node goes away, reads fail."""
        if self.master is None:
            return
        asyncio.get_running_loop().remove_reader(self.master)
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        if self._slave is not None:
            os.close(self._slave)
        self.master = self._slave = None
        self._inbox.clear()
        self.streaming = self.protocol.start_measurement is None

    # -- bytes out ---------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        """Writes ``data`` as the device would (honouring the fault modes)."""
        if self.drop_rate:
            data = bytes(b for b in data if self.rng.random() >= self.drop_rate)
        async with self._writer_lock:
            if self.one_byte_at_a_time:
                for i in range(len(data)):
                    self._write(data[i : i + 1])
                    await asyncio.sleep(BYTE_GAP_S)
            else:
                self._write(data)

    async def send_reading(self, reading: Reading | None = None) -> bytes:
        frame = self.protocol.encode(reading if reading is not None else self.sample())
        await self.send(frame)
        return frame

    async def send_garbage(self, count: int) -> bytes:
        noise = self.rng.randbytes(count)
        await self.send(noise)
        return noise

    def sample(self) -> Reading:
        return self.protocol.sample(self.rng)

    def _write(self, data: bytes) -> None:
        if self.master is None:
            return  # unplugged: the bytes go nowhere
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master, view)
            except BlockingIOError:
                return  # buffer full, nobody reading: a real device loses them too
            except OSError:
                return  # the other side is gone
            view = view[written:]

    # -- bytes in (the host's commands) ------------------------------------------------

    def _on_readable(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return  # nobody on the other side yet
        if self.protocol.name.startswith("contec"):
            for command in self._command_framer.feed(data):
                self._contec_command(command)
        elif self.protocol.expects_ack:
            self._inbox += data
            self._nonin_commands()
        self._received.set()

    def _contec_command(self, command: bytes) -> None:
        self.commands.append(command)
        if command == contec.START_LIVE:
            self.streaming = True
        elif command == contec.STOP_LIVE:
            self.streaming = False

    def _nonin_commands(self) -> None:
        inbox = self._inbox
        while True:
            start = inbox.find(0x02)
            if start < 0:
                inbox.clear()
                return
            del inbox[:start]
            if len(inbox) < 6:
                return
            command = bytes(inbox[:6])
            del inbox[:6]
            self.commands.append(command)
            fmt = nonin.parse_select_format(command)
            own = int(self.protocol.on_connect[0][4])
            accepted = self.accepted_formats if self.accepted_formats is not None else {own}
            if self.answers_commands:
                self._write(bytes([nonin.ACK if fmt in accepted else nonin.NAK]))

    async def wait_command(self, count: int = 1) -> None:
        """Until the host has sent ``count`` commands in all."""
        while len(self.commands) < count:
            self._received.clear()
            await self._received.wait()

    # -- streaming ---------------------------------------------------------------------

    async def _stream(self) -> None:
        rate = self.protocol.frames_per_second
        period = WEIGHING_EVERY_S if self.protocol.kind.value == "body_composition" else 1 / rate
        reading = self.sample()
        n = 0
        while True:
            await asyncio.sleep(period)
            if not (self.plugged and self.streaming):
                continue
            n += 1
            if n % max(1, int(rate)) == 0:  # values drift once a second
                reading = self.sample()
            if self.garbage_every and n % self.garbage_every == 0:
                await self.send_garbage(GARBAGE_BYTES)
            await self.send_reading(reading)
