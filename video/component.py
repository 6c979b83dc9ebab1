"""The "call" component: the consultation's media and signaling on the cabin's side.

The doctor's console lives at the hub; its signaling reaches the consultation through
the hub link (kiosk/hub_link), which attaches and detaches the doctor's channel. The
cabin serves no doctor page and accepts no connection from outside."""

from __future__ import annotations

import logging
from typing import Any

from kiosk.component import Component, Context
from video import stack
from video.consultation import Consultation
from video.loopback import offer_loopback_candidates

log = logging.getLogger(__name__)


class CallComponent(Component):
    name = "call"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.consultation = Consultation(ctx)

    async def start(self) -> None:
        await stack.set_up(self.ctx.settings.call)
        if self.ctx.settings.network.ice_loopback:
            offer_loopback_candidates(True)
        self.ctx.tasks.spawn(self.consultation.bus_loop(), "call-bus")
        self.ctx.tasks.spawn(self.consultation.quality_loop(), "call-quality")

    async def stop(self) -> None:
        await self.consultation.close()
        stack.tear_down()
        if self.ctx.settings.network.ice_loopback:
            offer_loopback_candidates(False)

    def status(self) -> Any:
        c = self.consultation
        return {
            "call_state": c.call_state,
            "doctor_console": c.channel is not None,
            "connection": None if c.peer is None else c.peer.state,
            "restarts": c.restarts,
            # What the cabin receives from the doctor (an operator sees a one-way call).
            "received": None
            if c.peer is None
            else {
                "video_frames": c.peer.frames.video,
                "audio_frames": c.peer.frames.audio,
                "width": c.peer.frames.width,
                "height": c.peer.frames.height,
            },
        }


def call_component(ctx: Context) -> Component:
    return CallComponent(ctx)
