"""A doctor console written with aiohttp + aiortc, for tests that need no browser."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from tests.polling import until
from tests.video.conftest import DOCTOR_PASSWORD, DOCTOR_USER

WAIT_S = 20.0


class DoctorClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.channel: Any = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames = 0
        self.offers: list[dict[str, Any]] = []  # every offer the cabin sent, in order
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def origin(self) -> str:
        return self.base_url

    async def login(self, password: str = DOCTOR_PASSWORD) -> aiohttp.ClientResponse:
        return await self.http.post(
            f"{self.base_url}/doctor/login",
            json={"username": DOCTOR_USER, "password": password},
            headers={"Origin": self.origin},
        )

    async def connect(self) -> None:
        self.ws = await self.http.ws_connect(
            f"{self.base_url}/doctor/ws", headers={"Origin": self.origin}
        )
        self._tasks.append(asyncio.create_task(self._read(), name="doctor-ws-read"))

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

    async def send(self, msg: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send_str(msg if isinstance(msg, str) else json.dumps(msg))

    def send_channel(self, msg: dict[str, Any]) -> None:
        assert self.channel is not None and self.channel.readyState == "open"
        self.channel.send(json.dumps(msg))

    async def expect(self, type_: str, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            while True:
                msg = await self.inbox.get()
                if msg["type"] == type_ and all(msg.get(k) == v for k, v in match.items()):
                    return msg

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

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.pc is not None:
            await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.close()


async def wait_for(predicate: Any, limit_s: float = WAIT_S) -> None:
    """Poll with a bound (no fixed sleeps)."""
    await until(predicate, limit_s)
