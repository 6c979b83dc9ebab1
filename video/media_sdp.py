"""Bitrate hints for the doctor's Chromium, written into the SDP the cabin sends.

aiortc only gives the sender REMB feedback (no transport-wide congestion control), and its
estimate rises slowly: measured on a loopback 1280x720@30 call (bench/bench_call.py), the
doctor's Chromium held about 330-480 kbit/s and, keeping the resolution, sent the cabin
only 12-21 frames per second. Chromium reads `x-google-min-bitrate` / `x-google-start-bitrate`
(kbit/s) from the remote description's VP8 `a=fmtp` lines for its own sending (an offer
as well as an answer: libwebrtc builds its send parameters from the remote description):
with them the same call runs at 30 fps from the first second. The cabin offers
(video/peer.py), so the hint goes into its offer: checked with Chromium answering an
aiortc offer at 1280x720@30 on a loaded 2-core machine, its target bitrate was 0.9-1.0
Mbit/s 7-12 s into the call with the hint (about 31 fps reached the cabin), 0.24-0.38
Mbit/s without (about 24 fps). The cabin's link is a few Mbit/s
(design: fibre or 4G box in the town hall), so a floor of 800 kbit/s is safe.
"""

from __future__ import annotations

DEFAULT_HINT = "x-google-min-bitrate=800;x-google-start-bitrate=1500"


def vp8_bitrate_hint(sdp: str, hint: str = DEFAULT_HINT) -> str:
    """`sdp` with `hint` added to each VP8 payload type's fmtp (created if missing)."""
    lines = sdp.split("\r\n")
    vp8 = {
        line.split()[0].split(":", 1)[1]
        for line in lines
        if line.startswith("a=rtpmap:") and " VP8/" in line
    }
    with_fmtp = {
        line.split()[0].split(":", 1)[1] for line in lines if line.startswith("a=fmtp:")
    } & vp8
    out = []
    for original in lines:
        line = original
        if line.startswith("a=fmtp:") and line.split()[0].split(":", 1)[1] in vp8:
            line = f"{line};{hint}" if " " in line else f"{line} {hint}"
        out.append(line)
        if line.startswith("a=rtpmap:"):
            pt = line.split()[0].split(":", 1)[1]
            if pt in vp8 and pt not in with_fmtp:
                out.append(f"a=fmtp:{pt} {hint}")
    return "\r\n".join(out)
