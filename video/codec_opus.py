"""The cabin's microphone in mono Opus, as browsers send it.

aiortc encodes every audio track as stereo Opus at 96 kbit/s. The cabin's microphone is
one channel (the echo-cancelled PipeWire source, or the synthetic beep): stereo doubles
the same signal and triples the bitrate of a voice call. `MonoOpusEncoder` encodes mono
voice at 32 kbit/s, WebRTC's default for a mono microphone. The SDP still says
`opus/48000/2` (RFC 7587 always does); each Opus packet says whether it is mono, and
every decoder plays a mono packet on both channels.
"""

from __future__ import annotations

import fractions
from typing import Any

from aiortc.codecs.base import Encoder
from aiortc.mediastreams import convert_timebase
from av import AudioFrame, AudioResampler, CodecContext
from av.frame import Frame
from av.packet import Packet

SAMPLE_RATE = 48_000
SAMPLES_PER_FRAME = 960  # 20 ms
BIT_RATE = 32_000
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


class MonoOpusEncoder(Encoder):
    """aiortc's Opus encoder, for mono voice."""

    def __init__(self) -> None:
        self.codec = CodecContext.create("libopus", "w")
        self.codec.bit_rate = BIT_RATE
        self.codec.format = "s16"
        self.codec.layout = "mono"
        self.codec.options = {"application": "voip"}
        self.codec.sample_rate = SAMPLE_RATE
        self.codec.time_base = TIME_BASE
        # 20 ms frames whatever the source gives, downmixed to one channel.
        self.resampler = AudioResampler(
            format="s16", layout="mono", rate=SAMPLE_RATE, frame_size=SAMPLES_PER_FRAME
        )
        self.first_packet_pts: int | None = None

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, AudioFrame)
        packets: list[Packet[Any]] = []
        for chunk in self.resampler.resample(frame):
            packets += self.codec.encode(chunk)
        if not packets:
            return [], 0  # the resampler is still filling a 20 ms frame
        first = packets[0].pts or 0
        if self.first_packet_pts is None:
            self.first_packet_pts = first  # libopus starts at a negative pts
        return [bytes(p) for p in packets], first - self.first_packet_pts

    def pack(self, packet: Packet[Any]) -> tuple[list[bytes], int]:
        return [bytes(packet)], convert_timebase(packet.pts or 0, packet.time_base, TIME_BASE)
