"""The VP8 bitrate hint written into the cabin's answer, checked on a real aiortc answer."""

from __future__ import annotations

import asyncio

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from video.media_sdp import DEFAULT_HINT, vp8_bitrate_hint
from video.media_synthetic import TestPatternTrack

CLOSE_BOUND_S = 5.0


async def test_hint_on_every_vp8_payload_of_a_real_answer() -> None:
    doctor = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    cabin = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = TestPatternTrack(160, 120, 5)
    try:
        doctor.addTrack(TestPatternTrack(160, 120, 5))
        cabin.addTrack(track)
        await doctor.setLocalDescription(await doctor.createOffer())
        await cabin.setRemoteDescription(doctor.localDescription)
        await cabin.setLocalDescription(await cabin.createAnswer())
        sdp = vp8_bitrate_hint(cabin.localDescription.sdp)
        # Still an answer the browser side accepts.
        await doctor.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    finally:
        await doctor.close()
        await cabin.close()
        # aiortc's connect task (started by the answer) ends soon after close(): wait for it.
        others = asyncio.all_tasks() - {asyncio.current_task()}
        await asyncio.wait(others, timeout=CLOSE_BOUND_S)
    lines = sdp.split("\r\n")
    vp8 = [
        ln.split()[0].split(":")[1] for ln in lines if ln.startswith("a=rtpmap:") and "VP8/" in ln
    ]
    assert vp8
    for pt in vp8:
        fmtp = [ln for ln in lines if ln.startswith(f"a=fmtp:{pt} ")]
        assert len(fmtp) == 1
        assert fmtp[0].endswith(DEFAULT_HINT)
    h264 = [ln for ln in lines if "H264/" in ln]
    for ln in h264:
        pt = ln.split()[0].split(":")[1]
        assert not any(x.startswith(f"a=fmtp:{pt} ") and "x-google" in x for x in lines)


def test_existing_fmtp_is_extended_not_duplicated() -> None:
    sdp = "v=0\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 max-fr=30\r\na=rtpmap:97 rtx/90000\r\n"
    out = vp8_bitrate_hint(sdp, "x-google-min-bitrate=800")
    assert "a=fmtp:96 max-fr=30;x-google-min-bitrate=800" in out
    assert out.count("a=fmtp:96") == 1
    assert "a=fmtp:97" not in out
