"""A doctor at the hub's console, written with aiohttp + aiortc, for tests that need no
browser: logs in (password and TOTP), takes the waiting patient, answers the cabin's
offers and drains the cabin's media."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from tests.hub.fleet import Console
from tests.polling import until

WAIT_S = 20.0


class DoctorClient(Console):
    def __init__(self, hub_url: str, username: str = "dr.martin") -> None:
        super().__init__(hub_url, username)
        self.pc: RTCPeerConnection | None = None
        self.channel: Any = None
        self.frames = 0
        self.offers: list[dict[str, Any]] = []  # every offer the cabin sent, in order
        self._tasks: list[asyncio.Task[Any]] = []
        self.logged_in = False

    async def connect(self, *, take: bool = True, step_offset: int = 0) -> None:  # type: ignore[override]
        """Logs in if needed, opens the console and takes the waiting patient."""
        if not self.logged_in:
            await self.login(step_offset=step_offset)
            self.logged_in = True
        await super().connect()
        if take:
            await self.take_first()

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                if data["type"] == "offer":
                    self.offers.append(data)
                    await self._answer(data)
                else:
                    await self.inbox.put(data)

    async def send(self, message: dict[str, Any] | str) -> None:  # type: ignore[override]
        assert self.ws is not None
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    def send_channel(self, msg: dict[str, Any]) -> None:
        assert self.channel is not None and self.channel.readyState == "open"
        self.channel.send(json.dumps(msg))

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.pc is not None:
            await self.pc.close()
        pc = RTCPeerConnection()
        self.pc = pc
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(VideoStreamTrack())

        @pc.on("track")
        def on_track(track: Any) -> None:
            self._tasks.append(asyncio.create_task(self._drain(track), name="doctor-drain"))

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            self.channel = channel
            channel.on("message", lambda text: self.inbox.put_nowait(json.loads(text)))

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send(
            {"type": "answer", "sdp": pc.localDescription.sdp, "generation": offer["generation"]}
        )

    async def _drain(self, track: Any) -> None:
        try:
            while True:
                await track.recv()
                if track.kind == "video":
                    self.frames += 1
        except MediaStreamError:
            return

    async def hang_up(self) -> None:
        """The page is gone: its socket and its peer connection."""
        if self.ws is not None:
            await self.ws.close()
        if self.pc is not None:
            await self.pc.close()
            self.pc = None

    async def close(self) -> None:
        await self.hang_up()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().close()


async def wait_for(predicate: Any, limit_s: float = WAIT_S) -> None:
    """Poll with a bound (no fixed sleeps)."""
    await until(predicate, limit_s)
