"""Debian's Chromium as the doctor's browser (tests, bench, screenshots): where it is and
the flags that matter (design.md). Launched by playwright with executable_path=CHROMIUM,
never `playwright install`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-device-for-media-stream=fps=30",  # a moving test pattern as the camera
    "--use-fake-ui-for-media-stream",  # camera and microphone allowed without a prompt
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@asynccontextmanager
async def headless_chromium() -> AsyncIterator[Any]:
    """A playwright Browser: Debian's Chromium with CHROMIUM_FLAGS, closed on the way out."""
    from playwright.async_api import async_playwright  # the test extras only

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()
