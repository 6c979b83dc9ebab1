"""Renders the main screens to PNG for the README: the app's own SVG export, drawn by
headless Debian chromium (no extra converter needed).

    .venv/bin/python -m tests.ui.make_screenshots docs/ui
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playwright.async_api import async_playwright

from tests.ui.pilot_helpers import SIZE
from tests.ui.test_snapshots import build

MAIN_SCREENS = (
    ("welcome", "fr"),
    ("code", "fr"),
    ("identity", "fr"),
    ("consent", "fr"),
    ("questionnaire", "fr"),
    ("consultation", "fr"),
    ("checkout_failed", "fr"),
    ("checklist", "fr"),
    ("welcome", "en"),
)


async def svg_of(name: str, language: str) -> str:
    app, run_before = build(name, language)
    async with app.run_test(size=SIZE) as pilot:
        await run_before(pilot)
        await pilot.pause()
        return app.export_screenshot(title=f"{name} ({language})")


async def main(out: Path) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
        )
        page = await browser.new_page(viewport={"width": 1500, "height": 1200})
        for name, language in MAIN_SCREENS:
            svg = await svg_of(name, language)
            await page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            await page.locator("svg").first.screenshot(path=str(out / f"{name}-{language}.png"))
            print(out / f"{name}-{language}.png")
        await browser.close()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui")
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
