"""A real aiortc call inside the test process: one peer sends `tracks`, the other hands
each remote track to `on_track`. Use with the `loopback_only` fixture (conftest.py), which
keeps ICE on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack


async def connect(
    tracks: list[MediaStreamTrack], on_track: Callable[[MediaStreamTrack], None]
) -> tuple[RTCPeerConnection, RTCPeerConnection]:
    """(sender, receiver), negotiated; the caller closes both."""
    config = RTCConfiguration(iceServers=[])
    sender, receiver = RTCPeerConnection(config), RTCPeerConnection(config)
    for track in tracks:
        sender.addTrack(track)
    receiver.on("track", on_track)
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender, receiver


@asynccontextmanager
async def one_way_call(
    tracks: list[MediaStreamTrack], on_track: Callable[[MediaStreamTrack], None]
) -> AsyncIterator[tuple[RTCPeerConnection, RTCPeerConnection]]:
    """connect(), closing both peers on the way out."""
    sender, receiver = await connect(tracks, on_track)
    try:
        yield sender, receiver
    finally:
        await sender.close()
        await receiver.close()
