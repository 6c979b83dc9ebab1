"""The doctor's side: the hub's console in headless Chromium, driven with Playwright:
login with the password and the second factor (enrolled from the page's secret on the
first login, then the authenticator's next code), the waiting room, "Prendre en charge"."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.auth.totp import code_at
from tests.e2e.world import DOCTOR_RPPS, DOCTOR_USER, STEP_S
from tests.hub.fleet import DOCTOR_PASSWORD

# Second-factor secrets the pages enrolled, by username (as each doctor's phone keeps it).
SECRETS: dict[str, str] = {}

FRAMES_JS = (
    "() => { const v = document.getElementById('remote-video');"
    " return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0; }"
)


async def open_console(browser: Any, hub_url: str, username: str = DOCTOR_USER) -> Any:
    """A new page (its own browser context: another doctor's computer), logged in at the
    hub, on the console's waiting room."""
    context = await browser.new_context()
    page = await context.new_page()

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    page.set_default_timeout(STEP_S * 1000)
    await page.goto(f"{hub_url}/login")
    await page.fill("#username", username)
    await page.fill("#password", DOCTOR_PASSWORD)
    await page.click("#password-form button[type=submit]")
    enrol = page.locator("#enrol-step:not([hidden]) svg")
    code = page.locator("#code-step:not([hidden])")
    await enrol.or_(code).wait_for()
    if await enrol.count():
        SECRETS[username] = (await page.text_content("#secret") or "").strip()
        await page.fill("#enrol-code", code_at(SECRETS[username], datetime.now(UTC)))
        await page.click("#enrol-form button[type=submit]")
        await page.click("#recovery-done")
    else:
        # The authenticator's next code (the current one may have served already).
        later = datetime.now(UTC) + timedelta(seconds=30)
        await page.fill("#code", code_at(SECRETS[username], later))
        await page.click("#code-form button[type=submit]")
    await page.wait_for_url("**/doctor")
    await page.wait_for_selector("#link-state.ok")
    return page


async def take_patient(page: Any, cabin_id: str) -> None:
    """The patient waiting in that cabin, from the waiting room."""
    row = page.locator(f".queue-entry[data-cabin={cabin_id}]")
    await row.locator("button.take").click()
    await page.wait_for_selector("#consultation-panel:not([hidden])")
    await page.wait_for_selector("#cabin-state[data-state=waiting]")


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
