"""The coordinator's screen in headless Chromium, at a phone's size: log in with the
password and the second factor (enrolled on the way), pick Nangis and its next Monday,
see its 13 slots, book one (a bad phone first: refused under the field, in French),
read the code to the patient, see the slot full and the booking in the day's list,
cancel it. No console error, no CSP violation, nothing wider than the phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from hub.booking.slots import slot_times
from hub.service import Hub
from hub.store.models import Booking
from tests.chromium import headless_chromium
from tests.hub.browser import log_in
from tests.hub.fleet import add_person
from tests.hub.test_booking_world import PARIS, Clock, start_real_hours_hub

pytest.importorskip("playwright")
PHONE = {"width": 390, "height": 844}
WAIT_MS = 15_000


@pytest.fixture
async def booking_hub(tmp_path: Path) -> AsyncIterator[Hub]:
    hub = await start_real_hours_hub(tmp_path / "hub", Clock())
    await add_person(
        hub.db, "coord", roles=["coordinator"], sites=["NAN231", "CHE132"], name="Coordination"
    )
    try:
        yield hub
    finally:
        await hub.stop()


def next_open_monday(hub: Hub) -> date:
    nangis = hub.settings.site("NAN231")
    assert nangis is not None
    day = datetime.now(PARIS).date() + timedelta(days=1)
    while day.weekday() != 0 or len(slot_times(nangis, day)) != 13:
        day += timedelta(days=1)
    return day


async def test_a_coordinator_books_and_cancels_on_the_screen(booking_hub: Hub) -> None:
    from playwright.async_api import expect

    url = str(booking_hub.url)
    monday = next_open_monday(booking_hub)
    problems: list[str] = []
    refused: list[tuple[str, int]] = []
    async with headless_chromium() as browser:
        context = await browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
        page = await context.new_page()
        try:
            await log_in(page, url, "coord", "/booking")
            # From here on, the booking page: script errors, CSP violations, failed loads.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    refused.append((urlsplit(r.url).path, r.status)) if r.status >= 400 else None
                ),
            )
            await expect(page.locator("#site")).to_have_value("NAN231", timeout=WAIT_MS)
            await page.fill("#day", monday.isoformat())
            slots = page.locator("#slots .slot")
            await expect(slots).to_have_count(13, timeout=WAIT_MS)
            await expect(page.locator("#slots-title")).to_contain_text("lundi")
            await expect(slots.first).to_have_text("09:00libre")
            await expect(page.locator("#day-empty")).to_be_visible()

            await page.get_by_role("button", name="09:30, libre").click()
            await expect(page.locator("#form-slot")).to_contain_text("de 09:30 à 10:00")
            await page.fill("#family_name", "Dupont")
            await page.fill("#given_name", "Hélène")
            await page.fill("#birth_date", "1948-03-02")
            await page.fill("#phone", "12 34")
            await page.fill("#reason", "toux depuis une semaine")
            await page.select_option("#sex", "F")
            # The optional INS traits and GP, folded away until asked for.
            await expect(page.locator("#ins_number")).to_be_hidden()
            await page.click("#ins-details summary")
            await page.fill("#birth_name", "Martin")
            await page.fill("#first_names", "Hélène Marie")
            await page.fill("#ins_number", "2 48 03 75 056 123 12")  # a wrong key
            await page.fill("#birth_place", "75056")
            await page.click("#book")
            await expect(page.locator("#phone-error")).to_have_text(
                "Numéro de téléphone français attendu (0X XX XX XX XX ou +33 X ...)",
                timeout=WAIT_MS,
            )
            await expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#family_name-error")).to_be_hidden()
            await expect(page.locator("#ins_number-error")).to_have_text(
                "Clé du NIR incorrecte : attendu 73, reçu 12"
            )

            await page.fill("#phone", "06 12 34 56 78")
            await page.fill("#ins_number", "2 48 03 75 056 123 73")
            await page.fill("#gp_name", "Dr Anne Roux")
            await page.fill("#gp_mssante", "anne.roux@medecin.mssante.fr")
            await page.click("#book")
            done = page.locator("#done-code")
            await expect(done).to_be_visible(timeout=WAIT_MS)
            code = await done.get_attribute("data-code")
            assert code is not None and len(code) == 6 and code.isdigit()
            assert await done.inner_text() == f"{code[:3]} {code[3:]}"
            await expect(page.locator("#done-what")).to_contain_text("Hélène DUPONT")
            await expect(page.locator("#done-what")).to_contain_text("à 09:30")

            async with booking_hub.db.read() as s:
                booking = await s.scalar(select(Booking).where(Booking.code == code))
            assert booking is not None and booking.created_by == "coord"
            assert booking.slot_start.astimezone(PARIS).strftime("%H:%M") == "09:30"
            assert booking.phone == "+33612345678" and booking.sex == "F"
            assert booking.identity is not None and booking.identity["ins_number"] == (
                "248037505612373"
            )
            assert booking.identity["birth_name"] == "Martin"
            assert booking.general_practitioner == {
                "name": "Dr Anne Roux",
                "rpps": None,
                "mssante": "anne.roux@medecin.mssante.fr",
            }

            await expect(page.get_by_role("button", name="09:30, complet")).to_be_disabled()
            row = page.locator(f"#day-list tr[data-code='{code}']")
            await expect(row).to_contain_text("DUPONT Hélène (né·e le 02/03/1948)")
            await expect(row).to_contain_text("06 12 34 56 78")
            await expect(row).to_contain_text("Prévu")
            wide = await page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            assert not wide, "the screen is wider than the phone"

            await row.get_by_role("button", name="Annuler").click()
            await row.get_by_role("button", name="Confirmer l'annulation").click()
            await expect(row).to_contain_text("Annulé", timeout=WAIT_MS)
            await expect(page.get_by_role("button", name="09:30, libre")).to_be_enabled()
            async with booking_hub.db.read() as s:
                cancelled = await s.get(Booking, booking.id)
            assert cancelled is not None and cancelled.cancelled_by == "coord"

            # The choice survives a reload (it is in the address).
            await page.reload()
            await expect(page.locator("#day")).to_have_value(monday.isoformat(), timeout=WAIT_MS)
            await expect(page.locator("#day-list tr")).to_have_count(1)
        finally:
            await context.close()
    # The one refusal is the bad phone's; the browser reports it as a failed load.
    assert refused == [("/api/v1/bookings", 422)]
    assert [p for p in problems if "status of 422" not in p] == []
