"""The microphone in mono Opus at 32 kbit/s (video/codec_opus.py): packets a stock
(stereo) Opus decoder plays, a third of aiortc's bitrate, and in a real aiortc call."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from aiortc import RTCRtpSender
from aiortc.codecs.opus import OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from av import AudioFrame

from tests.polling import until
from tests.video.loopback_call import one_way_call
from video import codecs
from video.codec_opus import BIT_RATE, MonoOpusEncoder
from video.config import CallSettings, VideoEncoderSettings
from video.media_synthetic import BeepTrack
from video.render import RemoteMediaSink

BOUND_S = 20.0
SECONDS = 2
TONE_HZ = 440


@pytest.fixture(autouse=True)
def aiortc_codecs_after() -> Iterator[None]:
    yield
    codecs.uninstall()


def tone_frames(seconds: int = SECONDS) -> list[AudioFrame]:
    frames = []
    for i in range(seconds * 50):
        t = (np.arange(960) + i * 960) / 48_000
        samples = (8000 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples[np.newaxis, :], format="s16", layout="mono")
        frame.sample_rate = 48_000
        frame.pts = i * 960
        frames.append(frame)
    return frames


def encode_all(encoder: MonoOpusEncoder | OpusEncoder) -> list[tuple[list[bytes], int]]:
    return [encoder.encode(f) for f in tone_frames()]


def test_mono_packets_a_third_of_aiortcs_bitrate() -> None:
    ours = [p for p in encode_all(MonoOpusEncoder()) if p[0]]
    theirs = [p for p in encode_all(OpusEncoder()) if p[0]]
    ours_bits = 8 * sum(len(b) for payloads, _ in ours for b in payloads) / SECONDS
    theirs_bits = 8 * sum(len(b) for payloads, _ in theirs for b in payloads) / SECONDS
    # Opus is VBR: a pure tone runs somewhat over the target (41 kbit/s here).
    assert ours_bits <= 1.5 * BIT_RATE
    assert ours_bits < theirs_bits / 2, (ours_bits, theirs_bits)
    # Opus TOC byte, bit 2: 0 for a mono packet (RFC 6716 section 3.1).
    assert all(payloads[0][0] & 0x04 == 0 for payloads, _ in ours)
    assert all(payloads[0][0] & 0x04 for payloads, _ in theirs)
    # RTP timestamps in 48 kHz steps of 20 ms, from 0.
    stamps = [ts for _, ts in ours]
    assert stamps[0] == 0
    assert {b - a for a, b in itertools.pairwise(stamps)} == {960}


def test_a_stereo_decoder_plays_the_tone_on_both_channels() -> None:
    decoder = OpusDecoder()  # what aiortc (and a browser) decodes with: stereo out
    pcm = []
    for payloads, ts in encode_all(MonoOpusEncoder()):
        for payload in payloads:
            for frame in decoder.decode(JitterFrame(payload, ts)):
                assert isinstance(frame, AudioFrame)
                pcm.append(frame.to_ndarray().reshape(-1, 2))
    audio = np.concatenate(pcm[10:]).astype(np.float64)  # past the codec's start-up
    left, right = audio[:, 0], audio[:, 1]
    assert np.abs(left - right).max() <= 1  # the same voice in both ears
    spectrum = np.abs(np.fft.rfft(left))
    peak_hz = np.argmax(spectrum) * 48_000 / len(left)
    assert abs(peak_hz - TONE_HZ) < 5
    rms = np.sqrt(np.mean(left**2))
    assert 0.5 * 8000 / np.sqrt(2) < rms < 1.5 * 8000 / np.sqrt(2)


@pytest.mark.usefixtures("loopback_only")
async def test_a_real_call_sends_mono_opus() -> None:
    codecs.install(VideoEncoderSettings())
    sink = RemoteMediaSink(CallSettings(), headless=True)
    try:
        async with one_way_call([BeepTrack()], sink.add_track) as (cabin, _doctor):
            await until(lambda: sink.audio_frames_drained >= 25, BOUND_S, "audio drained")
            (sender,) = cabin.getSenders()
            assert isinstance(sender, RTCRtpSender)
            # Private to aiortc: this checks that the hook still reaches its senders.
            assert isinstance(getattr(sender, "_RTCRtpSender__encoder", None), MonoOpusEncoder)
    finally:
        await sink.stop()
