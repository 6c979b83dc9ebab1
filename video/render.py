"""The doctor on the patient's screen and speaker: `RemoteMediaSink`.

Every remote track given to `add_track` is read continuously, shown or not (aiortc's
receive queue is unbounded: a track nobody reads grows memory without limit).

- video: the newest decoded frame goes to the video window (`render_window.VideoWindow`, a
  pygame-ce window in its own thread); frames decoded faster than the window draws are
  dropped, never queued;
- audio: read here and played on the configured output (`call.audio_output`, e.g.
  'alsa:default': PipeWire's echo-cancelled sink on a cabin) by `render_audio.AudioOutput`
  (a thread; a failing device only loses the sound), or dropped when no output is
  configured (demo, tests).

`set_self_view(track)` adds the patient's own camera, small, in a corner (use
`CabinMedia.self_view()`: the camera track itself belongs to the call's sender).

Readers are tasks on the given TaskSupervisor (the daemon's `ctx.tasks`), or on a private
one; `stop()` ends them and closes the window.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from hub.shared.tasks import TaskSupervisor
from video.config import CallSettings
from video.media import MediaDeviceError, audio_device, use_session_runtime_dir
from video.render_audio import AudioOutput
from video.render_window import Pixels, VideoWindow

log = logging.getLogger(__name__)

__all__ = ["RemoteMediaSink"]

WINDOW_STOP_TIMEOUT_S = 2.0  # the window thread wakes every 0.1 s; 2 s means it is stuck
CAPTURE_TIMEOUT_S = 5.0  # one redraw, on a busy shared machine


class RemoteMediaSink:
    def __init__(
        self,
        settings: CallSettings,
        *,
        headless: bool,
        tasks: TaskSupervisor | None = None,
        window_size: tuple[int, int] | None = None,
    ) -> None:
        self.settings = settings
        self._tasks = tasks if tasks is not None else TaskSupervisor()
        self._own: list[asyncio.Task[Any]] = []
        self.audio_output: AudioOutput | None = None
        self._tracks: list[MediaStreamTrack] = []
        self.frames_received = 0
        self.self_view_frames = 0
        self.audio_frames_drained = 0
        self.stopped = False
        # Headless with no size given: the surface takes the size of the doctor's picture.
        size = window_size or (settings.camera.width, settings.camera.height)
        follow = headless and window_size is None
        self.window = VideoWindow(size, headless=headless, follow_frame_size=follow)
        self.window.start()

    @property
    def frames_rendered(self) -> int:
        """Remote video frames that reached the display surface."""
        return self.window.frames_rendered

    def add_track(self, track: MediaStreamTrack) -> None:
        """Show/play a remote track (call from RTCPeerConnection's 'track' event)."""
        if self.stopped:
            track.stop()
            return
        self._tracks.append(track)
        if track.kind == "video":
            self._spawn(self._read_video(track, remote=True), "call-remote-video")
        elif track.kind == "audio":
            self._spawn(self._read_audio(track), "call-remote-audio")
        else:
            self._spawn(self._drain(track), "call-remote-drain")

    def set_self_view(self, track: MediaStreamTrack) -> None:
        """The patient's own camera, small in a corner."""
        if self.stopped:
            return
        self._tracks.append(track)
        self._spawn(self._read_video(track, remote=False), "call-self-view")

    async def capture(self) -> Pixels:
        """The patient screen's pixels (height, width, RGB) as drawn next."""
        async with asyncio.timeout(CAPTURE_TIMEOUT_S):
            return await asyncio.wrap_future(self.window.capture())

    async def save_screenshot(self, path: Path) -> None:
        """The video window as a PNG (README screenshot)."""
        pixels = await self.capture()

        def save() -> None:
            import pygame

            h, w = pixels.shape[:2]
            pygame.image.save(pygame.image.frombuffer(pixels.tobytes(), (w, h), "RGB"), path)

        await asyncio.to_thread(save)

    async def stop(self) -> None:
        """End every reader, the audio output and the window (idempotent)."""
        self.stopped = True
        for track in self._tracks:
            track.stop()
        for task in self._own:
            task.cancel()
        # Asked before any wait: the threads still stop if this coroutine is cancelled.
        if self.audio_output is not None:
            self.audio_output.request_stop()
        self.window.request_stop()
        if self._own:
            await asyncio.gather(*self._own, return_exceptions=True)
        self._own.clear()
        if self.audio_output is not None:
            await asyncio.to_thread(self.audio_output.join, WINDOW_STOP_TIMEOUT_S)
        await asyncio.to_thread(self.window.join, WINDOW_STOP_TIMEOUT_S)
        if self.window.is_alive():
            log.warning("video window thread did not stop within %.0f s", WINDOW_STOP_TIMEOUT_S)

    def summary(self) -> dict[str, Any]:
        return {
            "frames_received": self.frames_received,
            "frames_rendered": self.frames_rendered,
            "audio_frames_drained": self.audio_frames_drained,
            "window": "unavailable" if self.window.failed else "open",
        }

    def _spawn(self, coro: Any, name: str) -> None:
        task = self._tasks.spawn(coro, name=name)
        self._own.append(task)
        task.add_done_callback(lambda t: self._own.remove(t) if t in self._own else None)

    async def _read_video(self, track: MediaStreamTrack, *, remote: bool) -> None:
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, VideoFrame):
                    continue
                if remote:
                    self.frames_received += 1
                    self.window.show_remote(frame)
                else:
                    self.self_view_frames += 1
                    self.window.show_self_view(frame)
        except MediaStreamError:
            log.info("video track ended (%s)", "remote" if remote else "self-view")

    def _speaker(self) -> AudioOutput | None:
        """The audio output, opened on the first remote audio track (None: no output)."""
        if self.audio_output is None and self.settings.audio_output is not None:
            try:
                fmt, device = audio_device(self.settings.audio_output)
            except MediaDeviceError as exc:
                log.warning("%s: the doctor is not heard", exc)  # still drained below
                return None
            use_session_runtime_dir()
            self.audio_output = AudioOutput(fmt, device)
            self.audio_output.start()
        return self.audio_output

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        speaker = self._speaker()
        try:
            while True:
                frame = await track.recv()
                self.audio_frames_drained += 1
                if speaker is not None and isinstance(frame, AudioFrame):
                    speaker.feed(frame)
        except MediaStreamError:
            log.info("remote audio track ended")

    async def _drain(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
        except MediaStreamError:
            pass
