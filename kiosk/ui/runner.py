"""Runs the touchscreen app against a daemon (``kiosk ui`` and ``kiosk demo``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from kiosk.settings import CabinSettings
from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.speech import Speaker

log = logging.getLogger(__name__)

# A UI that fails again at once is not helped by a tight loop of restarts.
RESTART_DELAY_S = 1.0
# As the configuration's default (site.ui_inactivity_s) when run without a config file.
DEFAULT_INACTIVITY_S = 90.0


async def run_ui(
    url: str, settings: CabinSettings, *, voice: bool = False, notice: str = ""
) -> None:
    """The touchscreen for a daemon running with these settings (``kiosk demo``)."""
    await run_screen(
        url,
        settings.storage.state_dir,
        inactivity_s=settings.site.ui_inactivity_s,
        voice=voice,
        notice=notice,
    )


async def run_screen(
    url: str,
    state_dir: Path,
    *,
    inactivity_s: float | None = None,
    voice: bool = False,
    notice: str = "",
) -> None:
    """Until the app exits normally: a failed app is replaced by a fresh one (nothing of
    the screen it showed is kept)."""
    client = DaemonClient.from_state_dir(url, state_dir)
    speaker = Speaker(enabled=voice)
    try:
        while True:
            app = KioskApp(
                client,
                inactivity_s=inactivity_s or DEFAULT_INACTIVITY_S,
                speaker=speaker,
                notice=notice,
            )
            await app.run_async()
            if app.return_code in (0, None):
                return
            log.warning("touchscreen UI restarted after a failure")
            await asyncio.sleep(RESTART_DELAY_S)
    finally:
        await client.close()
