"""The doctor's voice on the cabin's speaker: an ALSA output written from a thread.

Not aiortc's MediaRecorder: it opens the device lazily inside its own task, and when that
fails (no such device, a broken ALSA configuration) it silently stops reading the track,
whose receive queue then grows without bound. Here the sink always reads the track itself
and hands frames to this output through a small bounded queue (oldest dropped when the
device stalls); a device that fails is logged once and the frames are simply dropped.

ALSA writes block at the device's pace, so they run in a thread of their own.

PyAV's wheels bundle their own libasound, which looks for its configuration under a
build-time path; `video.media.use_system_alsa_config()` points it at the system's (where
the PipeWire plugin and the `default` device are defined) unless ALSA_CONFIG_PATH is set.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from typing import Any

import av
from av import AudioFrame

from video.media import use_system_alsa_config

log = logging.getLogger(__name__)

QUEUE_FRAMES = 10  # 200 ms of 20 ms frames: enough to ride out a hiccup, never a backlog
OUTPUT_RATE = 48_000


class AudioOutput(threading.Thread):
    """Plays AudioFrames on an ffmpeg output device (`fmt` 'alsa', `device` e.g. 'default')."""

    def __init__(self, fmt: str, device: str) -> None:
        super().__init__(name="kiosk-audio-output", daemon=True)
        self.fmt, self.device = fmt, device
        self.frames_played = 0
        self.frames_dropped = 0
        self.failed: str | None = None
        self._queue: queue.Queue[AudioFrame | None] = queue.Queue(maxsize=QUEUE_FRAMES)

    def feed(self, frame: AudioFrame) -> None:
        """From the event loop: never blocks; drops the oldest frame when the device lags."""
        if self.failed is not None:
            self.frames_dropped += 1
            return
        self.frames_dropped += self._put_dropping_oldest(frame)

    def request_stop(self) -> None:
        self._put_dropping_oldest(None)

    def _put_dropping_oldest(self, item: AudioFrame | None) -> int:
        dropped = 0
        while True:
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                    dropped += 1
            else:
                return dropped

    def run(self) -> None:
        use_system_alsa_config()
        try:
            container: Any = av.open(self.device, mode="w", format=self.fmt)
            stream: Any = container.add_stream("pcm_s16le", rate=OUTPUT_RATE)
            stream.layout = "stereo"
        except (OSError, ValueError, av.FFmpegError) as exc:
            self._fail(exc)
            return
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=OUTPUT_RATE)
        try:
            while (frame := self._queue.get()) is not None:
                for chunk in resampler.resample(frame):
                    chunk.pts = None
                    for packet in stream.encode(chunk):
                        container.mux(packet)
                self.frames_played += 1
        except (OSError, ValueError, av.FFmpegError) as exc:
            self._fail(exc)
        finally:
            with contextlib.suppress(OSError, av.FFmpegError):
                container.close()

    def _fail(self, exc: BaseException) -> None:
        self.failed = str(exc)
        log.warning(
            "audio output %s:%s unavailable (%s): the doctor is not heard",
            self.fmt,
            self.device,
            exc,
        )
        # feed() checks `failed` from now on; empty what is queued.
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
