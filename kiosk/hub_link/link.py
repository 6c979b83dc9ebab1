"""The supervisor of the cabin's link to the hub: connect, run, reconnect.

While connected it runs three loops on one connection: the reader (acks, pushed
appointments, the doctor's signaling), the sender (the outbox, in order, from the first
item the hub has not acknowledged) and the heartbeat (which also notices a dead link
that never closed). After any failure it waits a capped, jittered delay chosen by the
error's class and tries the next hub URL."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, Protocol

import aiohttp

from hub.shared import wire
from kiosk.hub_link.connection import (
    AuthRefused,
    HubConnection,
    LinkError,
    LinkLost,
    ProtocolRefused,
)
from kiosk.hub_link.credential import Credential
from kiosk.hub_link.outbox import Outbox

log = logging.getLogger(__name__)

# After a network error: 0.5 s, doubling, at most 30 s, each drawn at random between half
# and all of it (jitter: a hub restart does not get every cabin back in the same second).
RETRY_FIRST_S = 0.5
RETRY_CAP_S = 30.0
# A refused credential or protocol needs a person: try again rarely, and say so.
REFUSED_RETRY_S = 300.0
# Heartbeats missed before the link is called dead (no FIN from a cut 4G link).
DEAD_AFTER_HEARTBEATS = 3
SEND_BATCH = 100

LinkState = Literal["connecting", "online", "offline", "refused"]


class LinkHandlers(Protocol):
    async def on_welcome(self, welcome: wire.Welcome) -> None: ...
    async def on_frame(self, frame: wire.Frame) -> None: ...
    async def on_lost(self) -> None: ...


class Backoff:
    def __init__(self, first_s: float = RETRY_FIRST_S, cap_s: float = RETRY_CAP_S) -> None:
        self.first_s, self.cap_s = first_s, cap_s
        self.failures = 0

    def delay(self, error: Exception) -> float:
        if isinstance(error, AuthRefused | ProtocolRefused):
            return REFUSED_RETRY_S
        ceiling = min(self.cap_s, self.first_s * 2**self.failures)
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


class HubLink:
    def __init__(
        self,
        urls: list[str],
        credential: Credential,
        outbox: Outbox,
        hello: Callable[[], wire.Hello],
        handlers: LinkHandlers,
        *,
        backoff: Backoff | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.urls = urls
        self.credential = credential
        self.outbox = outbox
        self.hello = hello
        self.handlers = handlers
        self.backoff = backoff or Backoff()
        self.ssl_context = ssl_context
        self.state: LinkState = "connecting"
        self.since = datetime.now(UTC)
        self.last_error = ""
        self.connects = 0
        self.url: str | None = None
        self.rtt_ms: float | None = None
        self.connection: HubConnection | None = None
        self._wake = asyncio.Event()
        self._last_frame = time.monotonic()

    @property
    def online(self) -> bool:
        return self.state == "online" and self.connection is not None

    def wake(self) -> None:
        """New outbox items: the sender sends them now."""
        self._wake.set()

    async def send_live(self, frame: wire.Frame) -> bool:
        """A frame that is not kept when the hub is unreachable (it is re-derived)."""
        connection = self.connection
        if connection is None:
            return False
        try:
            await connection.send(frame)
        except LinkLost:
            return False
        return True

    def _set_state(self, state: LinkState, error: str = "") -> None:
        if state != self.state:
            self.state, self.since = state, datetime.now(UTC)
        self.last_error = error

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(ssl=self.ssl_context or True)
        async with aiohttp.ClientSession(connector=connector) as http:
            index = 0
            while True:
                url = self.urls[index % len(self.urls)]
                try:
                    connection = await HubConnection.open(
                        http, url, self.credential.authorization(), self.hello()
                    )
                except LinkError as exc:
                    await self._failed(exc)
                    index += 1
                    continue
                self.url = url
                error: Exception = LinkLost("the link ended")
                try:
                    await self._session(connection)
                except* LinkError as group:
                    first = group.exceptions[0]
                    error = first if isinstance(first, Exception) else error
                except* Exception as group:  # a bug in a handler: log it, keep the link alive
                    log.exception("hub link: handling failed", exc_info=group.exceptions[0])
                    error = LinkLost(f"internal error: {type(group.exceptions[0]).__name__}")
                finally:
                    self.connection = None
                    await connection.close()
                await self._failed(error)
                index += 1  # the next URL: this instance may be the one that died

    async def _failed(self, exc: Exception) -> None:
        refused = isinstance(exc, AuthRefused | ProtocolRefused)
        self._set_state("refused" if refused else "offline", str(exc))
        log.warning("hub link: %s", exc)
        await self.handlers.on_lost()
        await asyncio.sleep(self.backoff.delay(exc))

    async def _session(self, connection: HubConnection) -> None:
        welcome = connection.welcome
        self.outbox.acknowledged(welcome.acked_seq)
        self.connection = connection
        self.connects += 1
        self.backoff.reset()
        self._set_state("online")
        self._last_frame = time.monotonic()
        log.info("hub link: connected (outbox: %d to send)", self.outbox.pending)
        await self.handlers.on_welcome(welcome)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._read(connection), name="hub-read")
            group.create_task(self._send(connection, welcome.acked_seq), name="hub-send")
            group.create_task(self._beat(connection, welcome.heartbeat_s), name="hub-beat")

    async def _read(self, connection: HubConnection) -> None:
        async for frame in connection.frames():
            self._last_frame = time.monotonic()
            if isinstance(frame, wire.Ack):
                self.outbox.acknowledged(frame.seq)
            elif isinstance(frame, wire.HeartbeatAck):
                sent = frame.sent_at.timestamp()
                self.rtt_ms = round((datetime.now(UTC).timestamp() - sent) * 1000, 1)
            elif isinstance(frame, wire.ErrorFrame):
                log.warning("hub link: the hub refused a frame: %s", frame.message)
            else:
                await self.handlers.on_frame(frame)

    async def _send(self, connection: HubConnection, after: int) -> None:
        sent = after
        while True:
            self._wake.clear()
            items = self.outbox.after(sent, SEND_BATCH)
            for item in items:
                await connection.send(
                    wire.OutboxItem(
                        type="outbox",
                        seq=item.seq,
                        key=item.key,
                        kind=item.kind,
                        created_at=item.created_at,
                        payload=item.payload,
                    )
                )
                sent = item.seq
            if len(items) < SEND_BATCH:
                await self._wake.wait()

    async def _beat(self, connection: HubConnection, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            if time.monotonic() - self._last_frame > every_s * DEAD_AFTER_HEARTBEATS:
                raise LinkLost(
                    f"no answer from the hub for {every_s * DEAD_AFTER_HEARTBEATS:.0f} s"
                )
            await connection.send(wire.Heartbeat(type="heartbeat", sent_at=datetime.now(UTC)))
