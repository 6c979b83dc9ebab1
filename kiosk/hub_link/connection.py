"""One WebSocket to the hub, used once: open, ``hello`` → ``welcome``, frames, close.

The supervisor (kiosk/hub_link/link.py) makes a new one after every failure, and picks
its wait from the error's class: a refused credential is not retried like a lost link."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp

from hub.shared import wire

log = logging.getLogger(__name__)

# TCP, TLS and the upgrade: a hub slower than this is as good as down.
CONNECT_TIMEOUT_S = 10.0
# The hub answers hello at once; longer means it is overloaded or stuck.
WELCOME_TIMEOUT_S = 10.0


class LinkError(Exception):
    """Root of the link's errors."""


class AuthRefused(LinkError):
    """The hub does not know this credential (revoked, or never enrolled): retrying as fast
    as after a network error would achieve nothing; a technician must enrol the cabin."""


class ProtocolRefused(LinkError):
    """The hub does not speak this cabin's protocol version: the software must be updated."""


class Unreachable(LinkError):
    """No connection could be made (DNS, refused, TLS, timeout)."""


class LinkLost(LinkError):
    """The connection was up, and it dropped."""


class HubTimeout(Unreachable, TimeoutError):
    pass


class HubConnection:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, welcome: wire.Welcome) -> None:
        self.ws = ws
        self.welcome = welcome
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        http: aiohttp.ClientSession,
        url: str,
        authorization: str,
        hello: wire.Hello,
    ) -> HubConnection:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                ws = await http.ws_connect(
                    wire.cabin_ws_url(url),
                    headers={"Authorization": authorization},
                    max_msg_size=wire.MAX_FRAME_BYTES,
                    autoping=True,
                )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthRefused(f"the hub refused the cabin's credential ({exc.status})") from exc
            raise Unreachable(f"the hub answered {exc.status} to the upgrade") from exc
        except TimeoutError as exc:
            raise HubTimeout(f"no connection to the hub within {CONNECT_TIMEOUT_S:.0f} s") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise Unreachable(f"cannot reach the hub: {type(exc).__name__}") from exc
        try:
            await ws.send_str(wire.encode(hello))
            async with asyncio.timeout(WELCOME_TIMEOUT_S):
                msg = await ws.receive()
        except TimeoutError as exc:
            await ws.close()
            raise HubTimeout("the hub did not answer hello") from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            await ws.close()
            raise LinkLost(f"the link dropped during hello: {type(exc).__name__}") from exc
        if msg.type is not aiohttp.WSMsgType.TEXT:
            await ws.close()
            raise _closed_error(ws)
        try:
            frame = wire.parse_hub_frame(msg.data)
        except wire.FrameInvalid as exc:
            await ws.close()
            raise LinkLost(f"the hub's answer to hello is not a welcome: {exc}") from exc
        if not isinstance(frame, wire.Welcome):
            await ws.close()
            raise LinkLost(f"the hub answered hello with {frame.type}")
        return cls(ws, frame)

    async def send(self, frame: wire.Frame) -> None:
        text = wire.encode(frame)
        async with self._lock:
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError, aiohttp.ClientError) as exc:
                raise LinkLost(f"sending failed: {type(exc).__name__}") from exc

    async def frames(self) -> AsyncIterator[wire.Frame]:
        """The hub's frames until the socket closes (then LinkLost or AuthRefused)."""
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                yield wire.parse_hub_frame(msg.data)
            except wire.FrameInvalid as exc:
                log.warning("hub link: a frame from the hub was refused: %s", exc.message)
        raise _closed_error(self.ws)

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError, aiohttp.ClientError):
            await self.ws.close()


def _closed_error(ws: aiohttp.ClientWebSocketResponse) -> LinkError:
    code = ws.close_code
    if code == wire.CLOSE_AUTH_REFUSED:
        return AuthRefused("the hub closed the link: the cabin's credential is revoked")
    if code == wire.CLOSE_PROTOCOL:
        return ProtocolRefused("the hub does not speak this cabin's protocol version")
    return LinkLost(f"the hub closed the link (code {code})")
