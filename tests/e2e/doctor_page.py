"""The doctor's side: the real console in headless Chromium, driven with Playwright."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.e2e.world import DOCTOR_PASSWORD, DOCTOR_RPPS, DOCTOR_USER, STEP_S

FRAMES_JS = (
    "() => { const v = document.getElementById('remote-video');"
    " return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0; }"
)


async def open_console(browser: Any, url: str) -> Any:
    """A new page, logged in as the doctor, on the console."""
    page = await browser.new_page()

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    page.set_default_timeout(STEP_S * 1000)
    await page.goto(f"{url}/doctor")
    await page.fill("#username", DOCTOR_USER)
    await page.fill("#password", DOCTOR_PASSWORD)
    await page.click("#login-button")
    await page.wait_for_selector("#cabin-state")
    return page


async def page_frames_advance(page: Any, by: int = 10) -> int:
    """The patient's video plays in the page: ``by`` more frames decoded."""
    start: int = await page.evaluate(FRAMES_JS)
    deadline = time.monotonic() + STEP_S
    now = start
    while now < start + by:
        if time.monotonic() > deadline:
            raise AssertionError(f"the doctor's page decodes no video ({start} → {now} frames)")
        await asyncio.sleep(0.1)
        now = await page.evaluate(FRAMES_JS)
    width: int = await page.evaluate("() => document.getElementById('remote-video').videoWidth")
    assert width > 0
    return now


PRESCRIBER = {
    "prescriber.specialty": "Médecine générale",
    "prescriber.rpps": DOCTOR_RPPS,
    "prescriber.address": "2 rue de Melun, 77000 Melun, France",
    "prescriber.phone": "01 23 45 67 89",
    "prescriber.email": "c.martin@example.fr",
}


async def sign_prescription(page: Any, medication: str, sex: str | None = None) -> None:
    """Fills the form as the doctor does (the patient is filled in from the check-in,
    the sex from the booking when it has it; else the doctor picks ``sex``) and signs
    it; returns once the print job shows in the page."""
    if sex is not None:
        await page.select_option("[data-path='patient.sex']", sex)
    for path, value in PRESCRIBER.items():
        await page.fill(f"[data-path='{path}']", value)
    await page.fill("[data-path='items.0.medication']", medication)
    await page.fill("[data-path='items.0.posology']", "1 comprimé 3 fois par jour")
    await page.fill("[data-path='items.0.duration']", "5 jours")
    await page.click("#sign-print")
    try:
        await page.wait_for_selector("#print-jobs li[data-state]")
    except Exception as exc:
        errors = await page.text_content("#errors")
        form = await page.text_content("#prescription-panel")
        raise AssertionError(f"no print job: errors {errors!r}; panel {form!r}") from exc
    invalid = await page.locator(".invalid").count()
    assert invalid == 0, await page.text_content("#prescription-form")
