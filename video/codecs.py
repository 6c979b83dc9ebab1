"""The cabin's VP8 encoder and decoder, put in place of aiortc's own (and its mono Opus
encoder for the microphone, video/codec_opus.py).

aiortc builds its VP8 encoder with fixed libvpx settings, among them the temporal
denoiser (`noise-sensitivity` 4), which doubles the encoder's CPU at 1280x720
(bench/bench_call.py), and decodes with libvpx, about 25 % slower than FFmpeg's own VP8
decoder (a bit-exact decoder of the same format). On the cabin's small PC that CPU is the
call's biggest cost, so both are settings here (`[call.video_encoder]`):

- `denoise` (default off): the booth is lit and the camera fixed, so its picture is
  clean; the denoiser smooths fine texture, and texture (skin, the exam camera) is what the
  doctor looks at. Turn it on for a noisy camera.
- `speed`: libvpx's `cpu-used` in real-time mode, -6 as aiortc and Chromium's WebRTC use
  on a desktop; further from 0 is faster and coarser.

aiortc has no public hook for codecs: it calls `get_encoder`/`get_decoder`, imported into
`aiortc.rtcrtpsender` and `aiortc.rtcrtpreceiver`. `install()` replaces those two names
(process-wide, like video/loopback.py); tests/video/test_codecs.py checks that a real
aiortc call uses them, so an aiortc upgrade that moves them fails there, not silently.
"""

from __future__ import annotations

import os

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import av
from aiortc.codecs import get_decoder as aiortc_get_decoder
from aiortc.codecs import get_encoder as aiortc_get_encoder
from aiortc.codecs.base import Decoder, Encoder
from aiortc.codecs.vpx import (
    DEFAULT_BITRATE,
    MAX_BITRATE,
    MIN_BITRATE,
    Vp8Decoder,
    Vp8Encoder,
    number_of_threads,
)
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.frame import Frame

from video.codec_opus import MonoOpusEncoder
from video.config import VideoEncoderSettings
from video.name_patch import NamePatch

__all__ = ["CabinVp8Decoder", "CabinVp8Encoder", "install", "installed_settings", "uninstall"]

VP8 = "video/vp8"
OPUS = "audio/opus"
# A new encoder (hence a keyframe: a burst of bits, a visible pulse) only when the target
# bitrate moved enough: at once when it fell (congestion), once it rose by a third.
BITRATE_FALL = 0.1  # aiortc's rule, both ways
BITRATE_RISE = 0.33


class CabinVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder (packetization, keyframes on request, bitrate from REMB),
    opened with the cabin's libvpx settings.

    libvpx cannot change its bitrate in place through PyAV, so a new bitrate is a new
    encoder, and aiortc makes one on any 10 % move. While the receiver's estimate ramps up
    (500 kbit/s to 1.5 Mbit/s in the first ~15 s of a call) that was a keyframe a second;
    with BITRATE_RISE it is about 4. `target_bitrate` is the rate the encoder runs at:
    what the sender asks goes to `wanted_bitrate` until it is far enough to switch."""

    def __init__(self, settings: VideoEncoderSettings) -> None:
        super().__init__()
        self.settings = settings
        self.wanted_bitrate = DEFAULT_BITRATE
        self._bitrate = DEFAULT_BITRATE
        self.encoders_opened = 0
        self.options: dict[str, str] = {}  # given to the open encoder

    @property
    def target_bitrate(self) -> int:
        return self._bitrate

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        self.wanted_bitrate = max(MIN_BITRATE, min(bitrate, MAX_BITRATE))

    def libvpx_options(self) -> dict[str, str]:
        """FFmpeg's libvpx options (aiortc's, less `partitions`, which libvpx does not
        know: one token partition is its default anyway)."""
        rate = str(self._bitrate)
        return {
            "bufsize": rate,  # FFmpeg: rc_buf_sz = bufsize * 1000 / bit_rate = 1000 ms
            "cpu-used": str(self.settings.speed),
            "deadline": "realtime",
            "lag-in-frames": "0",
            "minrate": rate,  # minrate = maxrate = bit_rate: constant bitrate
            "maxrate": rate,
            "noise-sensitivity": "4" if self.settings.denoise else "0",
            "overshoot-pct": "15",
            "static-thresh": "1",
            "undershoot-pct": "100",
        }

    def _rate_moved(self) -> bool:
        change = (self.wanted_bitrate - self._bitrate) / self._bitrate
        if self.wanted_bitrate == MAX_BITRATE:  # the top is worth one more step
            return abs(change) > BITRATE_FALL
        return change < -BITRATE_FALL or change > BITRATE_RISE

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        # Opened here, before aiortc's encode, which then finds a codec that fits (same
        # size, same bitrate) and keeps it.
        codec = self.codec
        if isinstance(frame, av.VideoFrame) and (
            codec is None
            or (frame.width, frame.height) != (codec.width, codec.height)
            or self._rate_moved()
        ):
            self._bitrate = self.wanted_bitrate
            codec = av.CodecContext.create("libvpx", "w")
            codec.width, codec.height = frame.width, frame.height
            codec.bit_rate = self._bitrate
            codec.pix_fmt = "yuv420p"
            codec.gop_size = 3000  # no periodic keyframes: the receiver asks (PLI)
            codec.qmin, codec.qmax = 2, 56
            codec.options = self.options = self.libvpx_options()
            codec.thread_count = number_of_threads(frame.width * frame.height, _cpus())
            self.codec = codec
            self.encoders_opened += 1
        return super().encode(frame, force_keyframe)


class CabinVp8Decoder(Vp8Decoder):
    """VP8 decoded by FFmpeg's own decoder instead of libvpx (same pictures, less CPU)."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("vp8", "r")
        self.codec.thread_count = 1  # one call, one stream: threads only add overhead


def _cpus() -> int:
    return len(os.sched_getaffinity(0))  # the CPUs this process may run on


_settings: VideoEncoderSettings | None = None


def _get_encoder(codec: RTCRtpCodecParameters) -> Encoder:
    mime = codec.mimeType.lower()
    if mime == VP8 and _settings is not None:
        return CabinVp8Encoder(_settings)
    if mime == OPUS and _settings is not None:
        return MonoOpusEncoder()
    return aiortc_get_encoder(codec)


def _get_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    if codec.mimeType.lower() == VP8 and _settings is not None:
        return CabinVp8Decoder()
    return aiortc_get_decoder(codec)


_HOOKS = (
    NamePatch(aiortc.rtcrtpsender, "get_encoder", _get_encoder),
    NamePatch(aiortc.rtcrtpreceiver, "get_decoder", _get_decoder),
)


def install(settings: VideoEncoderSettings) -> None:
    """From now on every aiortc peer connection of this process encodes and decodes VP8
    with the cabin's codecs and these settings. Idempotent; the last settings win."""
    global _settings  # noqa: PLW0603 - one process-wide choice, like video/loopback.py
    _settings = settings
    for hook in _HOOKS:
        hook.install()


def uninstall() -> None:
    """Back to aiortc's own codecs (the call component's stop; tests)."""
    global _settings  # noqa: PLW0603
    _settings = None
    for hook in _HOOKS:
        hook.uninstall()


def installed_settings() -> VideoEncoderSettings | None:
    return _settings
