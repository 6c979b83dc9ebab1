"""The cabin's VP8 codecs (video/codecs.py): libvpx options from the configuration, fewer
new encoders while the bitrate ramps up, FFmpeg's VP8 decoder, and the hook into a real
aiortc call."""

from __future__ import annotations

import fractions
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs.vpx import MAX_BITRATE, Vp8Decoder, Vp8Encoder
from aiortc.jitterbuffer import JitterFrame
from pydantic import ValidationError

from kiosk.daemon import Daemon
from kiosk.settings import load_settings
from tests.cabin_toml import base_toml
from tests.polling import until
from tests.video.loopback_call import one_way_call
from video import audio_level, codecs, jitter
from video.codecs import CabinVp8Decoder, CabinVp8Encoder
from video.config import CallSettings, VideoEncoderSettings
from video.media_synthetic import TestPatternTrack
from video.render import RemoteMediaSink

BOUND_S = 20.0
TIME_BASE = fractions.Fraction(1, 90_000)


@pytest.fixture(autouse=True)
def aiortc_codecs_after() -> Iterator[None]:
    yield
    codecs.uninstall()


def pattern_frames(count: int, width: int = 320, height: int = 240) -> list[av.VideoFrame]:
    track = TestPatternTrack(width, height, 30)
    frames = []
    for i in range(count):
        frame = track.render(i)
        frame.pts, frame.time_base = i * 3000, TIME_BASE
        frames.append(frame)
    return frames


def decode_all(decoder: Vp8Decoder, payloads: list[list[bytes]]) -> list[av.VideoFrame]:
    out = []
    for i, packets in enumerate(payloads):
        # Each payload starts with aiortc's 4-byte VP8 descriptor (picture id): strip it.
        data = b"".join(p[4:] for p in packets)
        out += decoder.decode(JitterFrame(data=data, timestamp=i * 3000))
    return [f for f in out if isinstance(f, av.VideoFrame)]


@pytest.mark.parametrize(("denoise", "sensitivity"), [(False, "0"), (True, "4")])
def test_configured_options_reach_libvpx(denoise: bool, sensitivity: str) -> None:
    encoder = CabinVp8Encoder(VideoEncoderSettings(denoise=denoise, speed=-10))
    payloads, _ = encoder.encode(pattern_frames(1)[0])
    assert payloads
    assert encoder.options["noise-sensitivity"] == sensitivity
    assert encoder.options["cpu-used"] == "-10"
    assert encoder.options["deadline"] == "realtime"
    # FFmpeg leaves in the dict what the codec did not take: libvpx took them all.
    assert encoder.codec is not None
    assert encoder.codec.options == {}


def test_bitrate_ramp_opens_few_encoders_and_reaches_the_top() -> None:
    encoder = CabinVp8Encoder(VideoEncoderSettings())
    frames = pattern_frames(130)
    rate = 500_000
    for i, frame in enumerate(frames):
        if i % 5 == 4:  # a REMB each 5 frames, 8 % up, as a receiver's estimate ramps
            rate = int(rate * 1.08)
            encoder.target_bitrate = rate
        encoder.encode(frame)
    assert encoder.wanted_bitrate == MAX_BITRATE  # clamped to aiortc's ceiling
    assert encoder.target_bitrate == MAX_BITRATE  # the top was reached
    assert encoder.codec is not None and encoder.codec.bit_rate == MAX_BITRATE
    # Each new encoder is a keyframe: aiortc's 10 % rule opens 8 on this ramp.
    assert encoder.encoders_opened <= 5


def test_a_falling_bitrate_is_followed_at_once() -> None:
    encoder = CabinVp8Encoder(VideoEncoderSettings())
    frames = pattern_frames(3)
    encoder.encode(frames[0])
    encoder.target_bitrate = 420_000  # -16 %: congestion
    encoder.encode(frames[1])
    assert encoder.encoders_opened == 2
    assert encoder.codec is not None and encoder.codec.bit_rate == 420_000
    encoder.target_bitrate = 400_000  # -5 %: kept
    encoder.encode(frames[2])
    assert encoder.encoders_opened == 2


def test_a_new_frame_size_opens_a_new_encoder() -> None:
    encoder = CabinVp8Encoder(VideoEncoderSettings())
    encoder.encode(pattern_frames(1, 320, 240)[0])
    encoder.encode(pattern_frames(1, 640, 480)[0])
    assert encoder.encoders_opened == 2
    assert encoder.codec is not None and (encoder.codec.width, encoder.codec.height) == (640, 480)


def test_ffmpeg_decoder_gives_the_same_pictures_as_libvpx() -> None:
    encoder = CabinVp8Encoder(VideoEncoderSettings())
    payloads = [encoder.encode(frame)[0] for frame in pattern_frames(20)]
    decoder = CabinVp8Decoder()
    assert decoder.codec.name == "vp8"  # FFmpeg's own, not "libvpx"
    ours = decode_all(decoder, payloads)
    libvpx = decode_all(Vp8Decoder(), payloads)
    assert len(ours) == len(libvpx) == 20
    for a, b in zip(ours, libvpx, strict=True):
        assert (a.width, a.height) == (320, 240)
        assert bytes(a.planes[0]) == bytes(b.planes[0])  # VP8 decoding is exact


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError) as err:
        CallSettings.model_validate({"video_encoder": {"speed": 0}})
    assert err.value.errors()[0]["loc"] == ("video_encoder", "speed")
    with pytest.raises(ValidationError) as err:
        CallSettings.model_validate({"video_encoder": {"denoiser": True}})
    assert err.value.errors()[0]["loc"] == ("video_encoder", "denoiser")
    assert CallSettings().video_encoder == VideoEncoderSettings(denoise=False, speed=-6)


def pattern_call(
    sink: RemoteMediaSink,
) -> AbstractAsyncContextManager[tuple[RTCPeerConnection, RTCPeerConnection]]:
    """The cabin sends its test pattern to a 'doctor' that renders it (both aiortc)."""
    return one_way_call([TestPatternTrack(320, 240, 30)], sink.add_track)


@pytest.fixture
async def sink() -> AsyncIterator[RemoteMediaSink]:
    sink = RemoteMediaSink(CallSettings(), headless=True, window_size=(320, 240))
    yield sink
    await sink.stop()


def video_encoder(pc: RTCPeerConnection) -> object:
    (sender,) = [s for s in pc.getSenders() if s.track is not None and s.track.kind == "video"]
    assert isinstance(sender, RTCRtpSender)
    # Private to aiortc: this is the check that its codec hook still works.
    return getattr(sender, "_RTCRtpSender__encoder", None)


class RecordingDecoder(CabinVp8Decoder):
    frames = 0

    def decode(self, encoded_frame: JitterFrame) -> list[av.frame.Frame]:
        out = super().decode(encoded_frame)
        RecordingDecoder.frames += len(out)
        return out


@pytest.mark.usefixtures("loopback_only")
async def test_installed_codecs_carry_a_real_aiortc_call(
    sink: RemoteMediaSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codecs, "CabinVp8Decoder", RecordingDecoder)
    RecordingDecoder.frames = 0
    codecs.install(VideoEncoderSettings())
    async with pattern_call(sink) as (cabin, _doctor):
        await until(lambda: sink.frames_rendered >= 10, BOUND_S, "frames rendered")
        encoder = video_encoder(cabin)
    assert RecordingDecoder.frames >= 10  # the doctor side decoded with ours
    assert isinstance(encoder, CabinVp8Encoder)
    assert encoder.options["noise-sensitivity"] == "0"


@pytest.mark.usefixtures("loopback_only")
async def test_uninstalled_is_aiortc_as_shipped(sink: RemoteMediaSink) -> None:
    codecs.install(VideoEncoderSettings())
    codecs.uninstall()
    async with pattern_call(sink) as (cabin, _doctor):
        await until(lambda: sink.frames_rendered >= 10, BOUND_S, "frames rendered")
        encoder = video_encoder(cabin)
    assert isinstance(encoder, Vp8Encoder) and not isinstance(encoder, CabinVp8Encoder)


async def test_the_call_component_sets_up_the_media_stack(tmp_path: Path) -> None:
    config = tmp_path / "cabin.toml"
    config.write_text(base_toml(tmp_path / "state"), encoding="utf-8")
    settings = load_settings(config)
    daemon = Daemon(settings)
    await daemon.start()
    try:
        assert codecs.installed_settings() == settings.call.video_encoder
        assert jitter.HOOK.installed
        assert audio_level.HOOK.installed
        assert "pygame" in sys.modules  # imported before the first call
    finally:
        await daemon.stop()
    assert codecs.installed_settings() is None
    assert not jitter.HOOK.installed
    assert not audio_level.HOOK.installed
