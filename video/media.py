"""The cabin's media sources for the call: camera, exam camera, microphone.

`cabin_tracks(settings)` opens what the configuration names: a v4l2 camera through aiortc's
MediaPlayer (size and frame rate from config), an optional exam camera (otoscope,
dermatoscope: USB cameras), the microphone through ALSA (with PipeWire, ALSA's `default`
is the echo-cancelled source, see README "Screen and sound"). A device left out of the
configuration (None) gets a synthetic source: the demo and the tests have no hardware.

Exam camera hidden (`set_exam_visible(False)`): the track keeps its frame rate and sends
black frames of the same size, while the device is still read (so nothing piles up in the
player's queue and the picture comes back at once). A black frame costs the encoder almost
nothing and the doctor's page keeps one stable video element; nothing of the exam leaks
while hidden.

The camera is also shown to the patient as a self-view: `self_view()` gives a second track
fed by the same source (latest frame only, never a growing queue).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import av
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import VideoFrame

from video.config import CallSettings, CameraSettings
from video.media_synthetic import BeepTrack, TestPatternTrack

log = logging.getLogger(__name__)

__all__ = ["CabinMedia", "MediaDeviceError", "cabin_tracks", "open_cabin_tracks"]


class MediaDeviceError(Exception):
    """A camera or microphone named in the configuration could not be opened."""

    def __init__(self, role: str, device: str, reason: str) -> None:
        super().__init__(f"{role} {device!r} could not be opened: {reason}")
        self.role = role
        self.device = device


def _open_camera(role: str, cam: CameraSettings) -> MediaStreamTrack:
    assert cam.device is not None
    options = {"video_size": f"{cam.width}x{cam.height}", "framerate": str(cam.fps)}
    try:
        player = MediaPlayer(cam.device, format="v4l2", options=options)
    except (OSError, av.FFmpegError, ValueError) as exc:
        raise MediaDeviceError(role, cam.device, str(exc)) from exc
    if player.video is None:
        raise MediaDeviceError(role, cam.device, "it has no video stream")
    return player.video


def use_session_runtime_dir() -> None:
    """A system service run as User=kiosk has no XDG_RUNTIME_DIR; the kiosk user's
    compositor and PipeWire have their sockets in /run/user/<uid> (kiosk.service.d)."""
    runtime = Path(f"/run/user/{os.getuid()}")
    if "XDG_RUNTIME_DIR" not in os.environ and runtime.is_dir():
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


SYSTEM_ALSA_CONFIG = Path("/usr/share/alsa/alsa.conf")


def use_system_alsa_config() -> None:
    """PyAV's wheels bundle a libasound that looks for its configuration under a
    build-time path (then knows no device, not even `default`): use the system's."""
    if "ALSA_CONFIG_PATH" not in os.environ and SYSTEM_ALSA_CONFIG.exists():
        os.environ["ALSA_CONFIG_PATH"] = str(SYSTEM_ALSA_CONFIG)


def audio_device(spec: str) -> tuple[str, str]:
    """'alsa:NAME' / 'pulse:NAME' / bare NAME (ALSA) → (ffmpeg format, device name)."""
    kind, sep, name = spec.partition(":")
    if sep and kind in ("alsa", "pulse"):
        fmt, device = kind, name
    else:
        fmt, device = "alsa", spec
    if not device:
        raise MediaDeviceError("audio device", spec, "no device name after the prefix")
    if fmt not in av.formats_available:
        raise MediaDeviceError(
            "audio device",
            spec,
            f"this PyAV build has no {fmt!r} support; use 'alsa:default' "
            "(PipeWire and PulseAudio both serve ALSA clients)",
        )
    return fmt, device


def _open_microphone(spec: str) -> MediaStreamTrack:
    fmt, device = audio_device(spec)
    use_session_runtime_dir()
    use_system_alsa_config()
    try:
        player = MediaPlayer(device, format=fmt, options={"sample_rate": "48000", "channels": "1"})
    except (OSError, av.FFmpegError, ValueError) as exc:
        raise MediaDeviceError("microphone", spec, str(exc)) from exc
    if player.audio is None:
        raise MediaDeviceError("microphone", spec, "it has no audio stream")
    return player.audio


class _LatestFrameFanout:
    """Reads one source continuously and hands its latest frame to each subscriber.

    A subscriber that is slow sees fewer frames, never older ones: no queue grows."""

    def __init__(self, source: MediaStreamTrack) -> None:
        self.source = source
        self._subscribers: list[_FanoutTrack] = []
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    def subscribe(self) -> MediaStreamTrack:
        track = _FanoutTrack(self)
        self._subscribers.append(track)
        return track

    def ensure_reading(self) -> None:
        # Not after close: a subscriber's recv() still in flight would start a reader
        # that nobody cancels.
        if self._reader is None and not self._closed:
            self._reader = asyncio.get_running_loop().create_task(
                self._read(), name="cabin-media-reader"
            )

    async def _read(self) -> None:
        frame: Any = None
        try:
            while True:
                frame = await self.source.recv()
                for sub in self._subscribers:
                    sub.offer(frame)
        except MediaStreamError:
            pass
        finally:
            for sub in self._subscribers:
                sub.offer(None)

    def close(self) -> asyncio.Task[None] | None:
        self._closed = True
        self.source.stop()
        for sub in self._subscribers:
            sub.stop()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        return self._reader


class _FanoutTrack(MediaStreamTrack):
    def __init__(self, fanout: _LatestFrameFanout) -> None:
        super().__init__()
        self.kind = fanout.source.kind
        self._fanout = fanout
        self._frame: Any = None
        self._fresh = asyncio.Event()

    def offer(self, frame: Any) -> None:
        self._frame = frame
        self._fresh.set()

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        self._fanout.ensure_reading()
        await self._fresh.wait()
        self._fresh.clear()
        if self._frame is None:
            self.stop()
            raise MediaStreamError
        return self._frame


class _ExamTrack(MediaStreamTrack):
    """The exam camera, or black frames of the same size and timing while hidden."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.visible = True
        self._black: VideoFrame | None = None

    async def recv(self) -> VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.source.recv()  # always read: the device's queue must not grow
        if not isinstance(frame, VideoFrame):
            raise MediaStreamError
        if self.visible:
            return frame
        black = self._black
        if black is None or (black.width, black.height) != (frame.width, frame.height):
            black = VideoFrame(frame.width, frame.height, "yuv420p")
            for plane, value in zip(black.planes, (16, 128, 128), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            self._black = black
        out = VideoFrame(frame.width, frame.height, "yuv420p")
        for src, dst in zip(black.planes, out.planes, strict=True):
            dst.update(bytes(src))
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    def stop(self) -> None:
        super().stop()
        self.source.stop()


class CabinMedia:
    """The tracks the cabin sends: `camera`, `exam` (None without an exam camera), `audio`."""

    def __init__(
        self,
        camera_source: MediaStreamTrack,
        exam_source: MediaStreamTrack | None,
        audio: MediaStreamTrack,
    ) -> None:
        self._camera = _LatestFrameFanout(camera_source)
        self.camera: MediaStreamTrack = self._camera.subscribe()
        self._exam = _ExamTrack(exam_source) if exam_source is not None else None
        self.exam: MediaStreamTrack | None = self._exam
        self.audio = audio
        self.closed = False

    @property
    def exam_visible(self) -> bool:
        return self._exam is not None and self._exam.visible

    def set_exam_visible(self, on: bool) -> None:
        """Show or hide the exam camera (hidden: black frames). No-op without one."""
        if self._exam is not None:
            self._exam.visible = on

    def self_view(self) -> MediaStreamTrack:
        """Another track of the cabin camera, for the patient's self-view."""
        return self._camera.subscribe()

    def close(self) -> None:
        """Stop every track and release the devices (idempotent)."""
        self.closed = True
        self._camera.close()
        if self._exam is not None:
            self._exam.stop()
        self.audio.stop()

    async def aclose(self) -> None:
        """close(), then wait until the camera reader has finished."""
        reader = self._camera.close()
        self.close()
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)


def cabin_tracks(settings: CallSettings, *, synthetic: bool | None = None) -> CabinMedia:
    """Open the cabin's sources. synthetic: None → synthetic only where no device is
    configured; True → all synthetic; False → every device must be configured.

    Raises MediaDeviceError naming the device that failed. Opening a v4l2 or ALSA device
    blocks briefly: from the event loop prefer `await open_cabin_tracks(...)`."""
    cam = settings.camera
    exam_cfg = settings.exam_camera

    def use_synthetic(device: str | None, role: str) -> bool:
        if synthetic is True:
            return True
        if device is None and synthetic is False:
            raise MediaDeviceError(role, "", "no device configured and synthetic=False")
        return device is None

    opened: list[MediaStreamTrack] = []
    try:
        camera: MediaStreamTrack
        if use_synthetic(cam.device, "camera"):
            camera = TestPatternTrack(cam.width, cam.height, cam.fps, label="camera")
        else:
            camera = _open_camera("camera", cam)
        opened.append(camera)
        exam: MediaStreamTrack | None = None
        if exam_cfg is not None:
            if use_synthetic(exam_cfg.device, "exam camera"):
                exam = TestPatternTrack(exam_cfg.width, exam_cfg.height, exam_cfg.fps, "exam")
            else:
                exam = _open_camera("exam camera", exam_cfg)
            opened.append(exam)
        if use_synthetic(settings.audio_input, "microphone"):
            audio: MediaStreamTrack = BeepTrack()
        else:
            assert settings.audio_input is not None
            audio = _open_microphone(settings.audio_input)
    except BaseException:
        for track in opened:
            track.stop()
        raise
    return CabinMedia(camera, exam, audio)


async def open_cabin_tracks(settings: CallSettings, *, synthetic: bool | None = None) -> CabinMedia:
    """cabin_tracks() off the event loop (device opening blocks)."""
    return await asyncio.to_thread(cabin_tracks, settings, synthetic=synthetic)
