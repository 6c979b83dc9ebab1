"""The doctor's video frames handed to the decoder as soon as they are whole.

aiortc's jitter buffer knows a video frame is complete only when the first packet of the
next one arrives (a new RTP timestamp): every frame waits one frame interval (33 ms at
30 fps, 67 ms at 15) before decoding, the first one of a call included. The sender marks
the last packet of each frame (RTP marker bit, RFC 3550 and RFC 7741 for VP8; Chromium
and aiortc both set it): `MarkerJitterBuffer` hands the frame over when its packets are
contiguous from the buffer's start up to a marked one, and still on a new timestamp
when a marker was lost.

aiortc builds its buffers in `RTCRtpReceiver.__init__` through the name `JitterBuffer`
of `aiortc.rtcrtpreceiver`; `HOOK.install()` replaces that name with a factory that gives
video receivers this buffer (audio keeps aiortc's), like video/codecs.py does for the
codecs. tests/video/test_jitter.py checks a real aiortc call gets it.
"""

from __future__ import annotations

import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket

from video.name_patch import NamePatch

__all__ = ["HOOK", "MarkerJitterBuffer"]


class MarkerJitterBuffer(JitterBuffer):
    """A video jitter buffer that releases a frame at its marked last packet."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = True) -> None:
        super().__init__(capacity, prefetch=0, is_video=is_video)
        self.frames_at_marker = 0  # frames released by their marker (the others: next ts)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        origin = self._origin
        if origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None:
                return None  # a gap: wait for it (NACK, retransmission)
            if packets and packet.timestamp != packets[0].timestamp:
                return self._release(packets, count)  # the marker was lost
            packets.append(packet)
            if packet.marker:
                self.frames_at_marker += 1
                return self._release(packets, count + 1)
        return None

    def _release(self, packets: list[RtpPacket], count: int) -> JitterFrame:
        # `_data` is the depayloaded VP8 data the receiver set on each packet.
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
        self.remove(count)
        return JitterFrame(data=data, timestamp=packets[0].timestamp)


def _jitter_buffer(capacity: int, prefetch: int = 0, is_video: bool = False) -> JitterBuffer:
    if is_video:
        return MarkerJitterBuffer(capacity, is_video=True)
    return JitterBuffer(capacity, prefetch=prefetch, is_video=is_video)


HOOK = NamePatch(aiortc.rtcrtpreceiver, "JitterBuffer", _jitter_buffer)
