"""The dashboard in headless Chromium: a technician logs in (password, then the second
factor enrolled from the page's secret, typed as an authenticator app shows it), sees the
cabins by site, and sees the page change without a reload when a cabin goes offline and
when another goes out of service (its alert listed). An administrator filters the audit
page. No console error, no CSP violation, no refused request."""

from __future__ import annotations

import pytest

from hub.service import Hub
from kiosk.lifecycle import State
from tests.chromium import headless_chromium
from tests.hub.browser import WAIT_MS, log_in, watch
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import add_person
from tests.polling import until

pytest.importorskip("playwright")


async def test_the_dashboard_follows_the_fleet_live(hub: Hub, make_cabin: MakeCabin) -> None:
    from playwright.async_api import expect

    nangis = await make_cabin("nangis-01", "NAN231")
    chelles = await make_cabin("chelles-01", "CHE132")
    await until(lambda: len(hub.gateway.connections) == 2, what="both cabins connected")
    async with headless_chromium() as browser:
        page = await (await browser.new_context(locale="fr-FR")).new_page()
        await log_in(page, str(hub.url), "tech", "/fleet")
        problems, refused = watch(page)
        await expect(page.locator("#link-state")).to_have_text("à jour en direct", timeout=WAIT_MS)
        sites = page.locator("section.site h2")
        await expect(sites).to_have_count(2)
        await expect(sites.first).to_contain_text("Centre médico-social de Nangis (NAN231)")
        row = page.locator('tr[data-cabin="nangis-01"]')
        await expect(row.locator(".connection")).to_contain_text("en ligne depuis")
        await expect(row.locator(".state")).to_contain_text("Libre", timeout=WAIT_MS)
        await expect(row.locator(".lock")).to_have_text("ouverte")
        await expect(row.locator(".instruments")).to_contain_text(
            "tensiometre (tensiomètre) : prêt, batterie 87 %"
        )
        await expect(row.locator(".chain")).to_contain_text("vérifiée")
        await expect(page.locator("#no-alerts")).to_be_visible()
        assert await page.locator("#audit-link").is_hidden()  # a technician: no audit
        assert await page.locator("#viewer").inner_text() == "tech"

        # The cabin goes away: the page says so, no reload.
        await nangis.stop()
        make_cabin.started.remove(nangis)
        await expect(row.locator(".connection")).to_contain_text(
            "hors ligne depuis moins d'une minute", timeout=WAIT_MS
        )

        # Another goes out of service: its state, and its alert at the top.
        assert chelles.ctx is not None
        chelles.ctx.lifecycle.transition(State.OUT_OF_SERVICE, "test: screen broken")
        other = page.locator('tr[data-cabin="chelles-01"]')
        await expect(other.locator(".state")).to_contain_text("Hors service", timeout=WAIT_MS)
        await expect(other.locator(".lock")).to_have_text("verrouillée")
        alert = page.locator("#alerts li")
        await expect(alert).to_have_count(1, timeout=WAIT_MS)
        await expect(alert).to_contain_text("cabine chelles-01 : hors service")
        await expect(page.locator("#alert-count")).to_have_text("1")
        await expect(other.locator(".cabin-alerts")).to_have_text("Hors service")
        # No webhook configured: the alert went to the hub's log, and the page says it did.
        await expect(alert.locator(".delivery")).to_contain_text("transmise", timeout=WAIT_MS)
        assert problems == [] and refused == []


async def test_an_administrator_filters_the_audit_page(hub: Hub) -> None:
    from playwright.async_api import expect

    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    async with headless_chromium() as browser:
        page = await (await browser.new_context(locale="fr-FR")).new_page()
        await log_in(page, str(hub.url), "admin", "/fleet")
        problems, refused = watch(page)
        link = page.locator("#audit-link")
        await expect(link).to_be_visible(timeout=WAIT_MS)
        await link.click()
        await page.wait_for_url("**/audit")
        rows = page.locator("#entries tbody tr")
        await expect(rows.first).to_be_visible(timeout=WAIT_MS)
        await page.select_option("#action", "totp_enrol")
        await page.click("#filters button")
        await expect(rows).to_have_count(1, timeout=WAIT_MS)
        await expect(rows.first).to_contain_text("activation du second facteur")
        await expect(rows.first).to_contain_text("admin")
        await expect(rows.first).to_contain_text("accepté")
        await page.select_option("#outcome", "refused")
        await page.click("#filters button")
        await expect(page.locator("#empty")).to_be_visible(timeout=WAIT_MS)
        assert problems == [] and refused == []
