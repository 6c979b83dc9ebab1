"""One aiortc peer connection with the doctor's browser (one per join or restart).

The cabin is always the offerer: camera, microphone, optional exam camera and the
"consultation" data channel. aiortc gathers its candidates before the offer is sent
(they are in the SDP); the browser trickles its own, added with ``add_candidate``.

aiortc has no in-place ICE restart, so a restart is a new ``CabinPeer`` (new ICE
credentials and DTLS) offered with ``restart=True``; the browser swaps its
RTCPeerConnection without reloading the page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.sdp import candidate_from_sdp

from hub.shared import console_messages as m
from hub.shared import wire
from kiosk.settings.network import IceServer
from video.media_sdp import vp8_bitrate_hint
from video.tracks import BorrowedTrack, CallMedia, CountingTrack, FrameCounter

log = logging.getLogger(__name__)

DATA_CHANNEL_LABEL = "consultation"


def rtc_configuration(
    configured: list[IceServer],
    from_hub: list[wire.IceServer] | None = None,
    policy: wire.IcePolicy = "all",
) -> RTCConfiguration:
    """The cabin's own ICE servers ([network] ice_servers) and the hub's (STUN, and TURN
    with a short-lived credential). Explicitly [] when none: aiortc otherwise asks a
    public STUN server. ``relay``: media only through TURN."""
    ice = [
        RTCIceServer(
            urls=list(s.urls),
            username=s.username,
            credential=None if s.credential is None else s.credential.get_secret_value(),
        )
        for s in configured
    ]
    ice += [
        RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in from_hub or []
    ]
    transport = RTCIceTransportPolicy.RELAY if policy == "relay" else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=ice, iceTransportPolicy=transport)


class CabinPeer:
    def __init__(
        self,
        generation: int,
        configuration: RTCConfiguration,
        media: CallMedia,
        on_state: Callable[[CabinPeer], None],
        on_message: Callable[[str], None],
    ) -> None:
        self.generation = generation
        self.frames = FrameCounter()
        self.pc = RTCPeerConnection(configuration)
        self._media = media
        self._on_state = on_state
        self._on_message = on_message
        self._remote: list[MediaStreamTrack] = []
        # Same sources for every connection of the consultation (one at a time).
        self.pc.addTrack(BorrowedTrack(media.media.audio))
        self.pc.addTrack(BorrowedTrack(media.media.camera))
        if media.media.exam is not None:
            # Hidden: black frames of the same size (video.media).
            self.pc.addTrack(BorrowedTrack(media.media.exam))
        self.channel: RTCDataChannel = self.pc.createDataChannel(DATA_CHANNEL_LABEL)
        self.channel.on("message", self._channel_message)
        self.pc.on("track", self._track)
        self.pc.on("connectionstatechange", self._state_changed)
        self._last_stats: tuple[float, int, int] | None = None
        self.closed = False

    @property
    def state(self) -> str:
        return str(self.pc.connectionState)

    async def offer(self, restart: bool) -> m.Offer:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        # Chromium takes its own send bitrate floor from our VP8 fmtp (video/media_sdp.py);
        # aiortc ignores these parameters, so its local description stays as it was.
        sdp = vp8_bitrate_hint(self.pc.localDescription.sdp)
        return m.Offer(
            sdp=sdp,
            generation=self.generation,
            restart=restart,
        )

    async def accept_answer(self, sdp: str) -> None:
        """Raises ValueError for an SDP aiortc cannot use (nothing changed then)."""
        if self.pc.signalingState != "have-local-offer":
            raise ValueError("no offer is waiting for an answer")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:  # aiortc raises ValueError and friends for bad SDP
            raise ValueError(f"the answer was refused: {exc}") from exc

    async def add_candidate(self, msg: m.IceCandidate) -> None:
        if not msg.candidate:
            return  # end of candidates: aioice needs nothing
        text = msg.candidate.removeprefix("candidate:")
        try:
            candidate = candidate_from_sdp(text)
        except (ValueError, IndexError) as exc:
            raise ValueError("the ICE candidate is malformed") from exc
        candidate.sdpMid = msg.sdp_mid
        candidate.sdpMLineIndex = msg.sdp_mline_index
        await self.pc.addIceCandidate(candidate)

    def send(self, text: str) -> bool:
        """Over the data channel; False when it is not open."""
        if self.channel.readyState != "open":
            return False
        self.channel.send(text)
        return True

    async def quality(self) -> m.CallQualityOut:
        report = await self.pc.getStats()
        rtts: list[float] = []
        lost = received = 0
        bytes_in = bytes_out = 0
        for stats in report.values():
            kind = type(stats).__name__
            if kind == "RTCRemoteInboundRtpStreamStats":
                if stats.roundTripTime is not None:
                    rtts.append(float(stats.roundTripTime))
            elif kind == "RTCInboundRtpStreamStats":
                lost += max(0, int(stats.packetsLost))
                received += int(stats.packetsReceived)
            elif kind == "RTCTransportStats":
                bytes_in += int(stats.bytesReceived)
                bytes_out += int(stats.bytesSent)
        now = time.monotonic()
        rate_in = rate_out = None
        if self._last_stats is not None:
            then, prev_in, prev_out = self._last_stats
            dt = max(now - then, 1e-3)
            rate_in = round(max(0, bytes_in - prev_in) * 8 / dt / 1000, 1)
            rate_out = round(max(0, bytes_out - prev_out) * 8 / dt / 1000, 1)
        self._last_stats = (now, bytes_in, bytes_out)
        return m.CallQualityOut(
            rtt_ms=round(1000 * sum(rtts) / len(rtts), 1) if rtts else None,
            loss_percent=round(100 * lost / (lost + received), 2) if lost + received else None,
            bitrate_in_kbps=rate_in,
            bitrate_out_kbps=rate_out,
            frames_received=self.frames.video,
        )

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.pc.close()
        for track in self._remote:
            track.stop()

    def _track(self, track: MediaStreamTrack) -> None:
        counted = CountingTrack(track, self.frames)
        self._remote.append(counted)
        self._media.sink.add_track(counted)

    def _state_changed(self) -> None:
        log.info("call peer %d: %s", self.generation, self.pc.connectionState)
        self._on_state(self)

    def _channel_message(self, message: Any) -> None:
        if isinstance(message, str):
            self._on_message(message)
