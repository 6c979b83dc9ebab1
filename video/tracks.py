"""The cabin's media for the call, shared by the successive peer connections of one
consultation (a restart builds a new connection on the same sources and screen).

Outgoing: ``video.media`` (camera, exam camera, microphone; synthetic where no device is
configured). Incoming: every remote track is wrapped in a ``CountingTrack`` (frames
received, for call quality and tests) and handed to ``video.render.RemoteMediaSink``,
which reads every track (aiortc's receive queue is unbounded) and shows the doctor on
the patient's screen."""

from __future__ import annotations

import os
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.component import Context
from video.media import CabinMedia, open_cabin_tracks
from video.render import RemoteMediaSink


def headless_screen() -> bool:
    """No display to draw on (tests, headless demo): render offscreen.
    KIOSK_VIDEO_HEADLESS=1 forces it; a cabin runs under a Wayland compositor."""
    if os.environ.get("KIOSK_VIDEO_HEADLESS") == "1":
        return True
    return not (os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY"))


class CallMedia:
    """Sources and the patient's screen, opened at the first join, closed at the end."""

    def __init__(self, media: CabinMedia, sink: RemoteMediaSink) -> None:
        self.media = media
        self.sink = sink

    @classmethod
    async def open(cls, ctx: Context) -> CallMedia:
        settings = ctx.settings.call
        media = await open_cabin_tracks(settings)
        sink = RemoteMediaSink(settings, headless=headless_screen(), tasks=ctx.tasks)
        sink.set_self_view(media.self_view())
        return cls(media, sink)

    async def close(self) -> None:
        # The sources are released even if the screen's stop is cancelled (the daemon
        # cancels its tasks at shutdown, maybe while this call's end is closing it).
        try:
            await self.sink.stop()
        finally:
            await self.media.aclose()


class BorrowedTrack(MediaStreamTrack):
    """A cabin source lent to one peer connection: aiortc stops a sender's track when
    the connection closes, and the next connection (a restart) needs the source alive."""

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._source.recv()


class CountingTrack(MediaStreamTrack):
    """Passes the frames of a remote track through, counting them."""

    def __init__(self, source: MediaStreamTrack, counter: FrameCounter) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._counter = counter

    async def recv(self) -> Any:
        frame = await self._source.recv()
        self._counter.add(self.kind, frame)
        return frame

    def stop(self) -> None:
        super().stop()
        self._source.stop()


class FrameCounter:
    def __init__(self) -> None:
        self.video = 0
        self.audio = 0
        self.width = 0
        self.height = 0

    def add(self, kind: str, frame: Any) -> None:
        if kind == "video":
            self.video += 1
            self.width, self.height = frame.width, frame.height
        else:
            self.audio += 1
