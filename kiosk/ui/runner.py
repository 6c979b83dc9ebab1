"""Runs the touchscreen app against a daemon (``kiosk ui`` and ``kiosk demo``)."""

from __future__ import annotations

from kiosk.settings import CabinSettings
from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.speech import Speaker


async def run_ui(url: str, settings: CabinSettings, *, voice: bool = False) -> None:
    client = DaemonClient.from_state_dir(url, settings.storage.state_dir)
    try:
        app = KioskApp(
            client,
            inactivity_s=settings.site.ui_inactivity_s,
            speaker=Speaker(enabled=voice),
        )
        await app.run_async()
    finally:
        await client.close()
