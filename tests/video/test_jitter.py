"""Video frames leave the jitter buffer at their marked last packet (video/jitter.py),
in unit and in a real aiortc call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from tests.polling import until
from tests.video.loopback_call import one_way_call
from video import jitter
from video.config import CallSettings
from video.jitter import MarkerJitterBuffer
from video.media_synthetic import TestPatternTrack
from video.render import RemoteMediaSink

BOUND_S = 20.0


@pytest.fixture(autouse=True)
def aiortc_buffer_after() -> Iterator[None]:
    yield
    jitter.HOOK.uninstall()


def packet(seq: int, ts: int, data: bytes, *, marker: bool) -> RtpPacket:
    p = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq, timestamp=ts)
    p._data = data  # type: ignore[attr-defined]  # set by the receiver's depayloader
    return p


def feed(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[JitterFrame | None]:
    return [buffer.add(p)[1] for p in packets]


FRAME_A = [
    packet(100, 3000, b"a1", marker=False),
    packet(101, 3000, b"a2", marker=False),
    packet(102, 3000, b"a3", marker=True),
]


def test_a_frame_leaves_at_its_marker() -> None:
    out = feed(MarkerJitterBuffer(capacity=512), FRAME_A)
    assert out[:2] == [None, None]
    frame = out[2]
    assert frame is not None
    assert (frame.data, frame.timestamp) == (b"a1a2a3", 3000)
    # aiortc's own buffer still holds it: it waits for the next frame's first packet.
    assert feed(JitterBuffer(capacity=512, is_video=True), FRAME_A) == [None, None, None]


def test_a_gap_holds_the_frame_until_the_packet_comes() -> None:
    buffer = MarkerJitterBuffer(capacity=512)
    assert feed(buffer, [FRAME_A[0], FRAME_A[2]]) == [None, None]
    (frame,) = feed(buffer, [FRAME_A[1]])  # the retransmission
    assert frame is not None and frame.data == b"a1a2a3"


def test_frames_follow_each_other_and_late_packets_are_dropped() -> None:
    buffer = MarkerJitterBuffer(capacity=512)
    feed(buffer, FRAME_A)
    frame_b = [packet(103, 6000, b"b1", marker=False), packet(104, 6000, b"b2", marker=True)]
    assert feed(buffer, [FRAME_A[1]]) == [None]  # a duplicate of a frame already out
    out = feed(buffer, frame_b)
    assert out[0] is None
    assert out[1] is not None and (out[1].data, out[1].timestamp) == (b"b1b2", 6000)
    assert buffer.frames_at_marker == 2


def test_without_markers_a_frame_leaves_at_the_next_timestamp() -> None:
    buffer = MarkerJitterBuffer(capacity=512)
    unmarked = [packet(1, 90, b"x1", marker=False), packet(2, 90, b"x2", marker=False)]
    assert feed(buffer, unmarked) == [None, None]
    (frame,) = feed(buffer, [packet(3, 180, b"y1", marker=False)])
    assert frame is not None and (frame.data, frame.timestamp) == (b"x1x2", 90)
    assert buffer.frames_at_marker == 0


def test_sequence_numbers_wrap() -> None:
    buffer = MarkerJitterBuffer(capacity=512)
    out = feed(
        buffer,
        [packet(65535, 90, b"w1", marker=False), packet(0, 90, b"w2", marker=True)],
    )
    assert out[1] is not None and out[1].data == b"w1w2"


@pytest.mark.usefixtures("loopback_only")
async def test_a_real_call_receives_through_it() -> None:
    jitter.HOOK.install()
    assert jitter.HOOK.installed
    sink = RemoteMediaSink(CallSettings(), headless=True, window_size=(320, 240))
    try:
        async with one_way_call([TestPatternTrack(320, 240, 30)], sink.add_track) as (
            _cabin,
            doctor,
        ):
            await until(lambda: sink.frames_rendered >= 10, BOUND_S, "frames rendered")
            (receiver,) = [r for r in doctor.getReceivers() if r.track.kind == "video"]
            assert isinstance(receiver, RTCRtpReceiver)
            # Private to aiortc: this checks that the hook still reaches its receivers.
            buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
            assert isinstance(buffer, MarkerJitterBuffer)
            assert buffer.frames_at_marker >= 10
    finally:
        await sink.stop()
    jitter.HOOK.uninstall()
    assert not jitter.HOOK.installed
