"""The one place that picks an instrument's link from its configured transport."""

from __future__ import annotations

import asyncio
from pathlib import Path

from devices.config import InstrumentSettings
from devices.link import InstrumentLink, LinkSink

# A USB camera is looked for this often (plugging one in shows within two seconds).
CAMERA_POLL_S = 2.0
DEFAULT_CAMERA = "/dev/video0"


class CameraLink(InstrumentLink):
    """A USB camera (otoscope, dermatoscope): ready while its device node exists. The
    pictures go through the call, not through this link."""

    @property
    def node(self) -> Path:
        return Path(self.settings.port or DEFAULT_CAMERA)

    async def run(self, sink: LinkSink) -> None:
        present: bool | None = None
        while True:
            now = self.node.exists()
            if now != present:
                present = now
                if now:
                    sink.state("ready", f"camera at {self.node}")
                else:
                    sink.state("absent", f"no camera at {self.node}")
            await asyncio.sleep(CAMERA_POLL_S)


def make_link(settings: InstrumentSettings) -> InstrumentLink:
    if settings.transport == "serial":
        from devices.serial_link import SerialLink

        return SerialLink(settings)
    if settings.transport == "ble":
        from devices.ble.link import BleLink  # bleak and D-Bus only when configured

        return BleLink(settings, adapter=settings.adapter)
    if settings.transport == "simulated":
        from devices.sim.simulated_link import SimulatedLink

        return SimulatedLink(settings)
    if settings.transport == "usb_camera":
        return CameraLink(settings)
    raise ValueError(f"instrument {settings.name}: unknown transport {settings.transport!r}")
