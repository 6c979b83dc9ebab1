"""The doctor's record flow in headless Chromium, with a real cabin daemon and a real mail
relay (aiosmtpd, STARTTLS, the hub's client certificate): the report's reason comes from
the check-in and the measurement taken in the call appears in it; the draft outlives a
reload; "Signer" without a conclusion is refused next to the field; signed, the report
no longer changes; the consultation ends; the cabin hands its part over; "Mes
consultations" lists it with where the record went (the GP's mail delivered, the printed
copy's answer), finds it by the patient's name (accents and case ignored) and the day,
shows its PDF, and another doctor gets nothing of it. No console error, no CSP
violation, no refused request but the ones the test makes on purpose."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from hub.service import Hub
from hub.store.models import ConsultationRecordRow, RecordDelivery
from kiosk.daemon import Daemon
from kiosk.lifecycle import State
from kiosk.ui_auth import HEADER
from tests.chromium import headless_chromium
from tests.hub.browser import WAIT_MS, log_in, watch
from tests.hub.conftest import standard_accounts
from tests.hub.fleet import Cabins, check_in, start_hub, write_hub_config
from tests.hub.records.world import GP_ADDRESS, Relay, make_pki
from tests.polling import until

pytest.importorskip("playwright")

GP = {"name": "Dr Anne Roux", "mssante": GP_ADDRESS}
CONCLUSION = "Bronchite aiguë probablement virale"
HANDOVER_S = 30.0  # the patient leaves → the record at the hub (~1 s here)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[tuple[Relay, str]]:
    pki = make_pki(tmp_path / "pki")
    with Relay(pki) as running:
        yield running, running.toml(pki)


@pytest.fixture
async def records_hub(tmp_path: Path, relay: tuple[Relay, str]) -> AsyncIterator[Hub]:
    running = await start_hub(write_hub_config(tmp_path / "hub", extra=relay[1]))
    await standard_accounts(running)
    try:
        yield running
    finally:
        await running.stop()


async def cabin_leaves(daemon: Daemon) -> None:
    """The patient takes their documents and leaves the booth (the touchscreen's button)."""
    assert daemon.ctx is not None and daemon.url is not None
    async with (
        aiohttp.ClientSession(headers={HEADER: daemon.ctx.ui_token}) as http,
        http.post(daemon.url + "/api/ui/leave", json={}) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def record_row(hub: Hub) -> ConsultationRecordRow | None:
    async with hub.db.read() as s:
        return await s.scalar(select(ConsultationRecordRow))


async def test_report_sign_history_and_deliveries(
    tmp_path: Path, records_hub: Hub, relay: tuple[Relay, str], loopback_only: None
) -> None:
    from playwright.async_api import expect

    hub, inbox = records_hub, relay[0].inbox
    cabins = Cabins(tmp_path, hub)
    try:
        nangis = await cabins("nangis-01", "NAN231")
        await until(lambda: len(hub.gateway.connections) == 1, what="the cabin connected")
        await check_in(nangis, "Hélène", "Dupont", general_practitioner=GP)
        async with headless_chromium() as browser:
            context = await browser.new_context(
                locale="fr-FR", viewport={"width": 1400, "height": 1000}
            )
            page = await context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
            await log_in(page, str(hub.url), "dr.martin", "/doctor")
            problems, refused = watch(page)

            await page.click(".queue-entry[data-cabin=nangis-01] button.take")
            await page.wait_for_selector("#consultation-panel:not([hidden])")
            # The patient's reason from the check-in (pain) stands in the report.
            await expect(page.locator("#report-reason")).to_have_value(re.compile(r"\S"))
            await page.click("#join")
            await page.click("button.measure[data-instrument=tensiometre]")
            systolic = page.locator('#report-measurements li[data-code="8480-6"]')
            await expect(systolic).to_contain_text("Pression artérielle systolique", timeout=60_000)
            await expect(systolic).to_contain_text("mmHg")

            # The draft is kept at the hub as the doctor types: a reload finds it.
            await page.fill("#report-findings", "Auscultation : quelques sibilants")
            await expect(page.locator("#report-status")).to_have_attribute("data-state", "saved")
            await page.reload()
            await page.wait_for_selector("#consultation-panel:not([hidden])")
            await expect(page.locator("#report-findings")).to_have_value(
                "Auscultation : quelques sibilants"
            )

            # No conclusion: refused next to its field, nothing signed.
            await page.click("#report-sign")
            error = page.locator('.field-error[data-error-for="conclusion"]')
            await expect(error).to_have_text("la conclusion est obligatoire pour signer")
            await expect(page.locator("#report-status")).to_have_attribute("data-state", "refused")
            row = await record_row(hub)
            assert row is not None and row.signed_at is None

            await page.fill("#report-conclusion", CONCLUSION)
            await page.click("#report-sign")
            await expect(page.locator("#report-status")).to_have_attribute("data-state", "signed")
            assert await page.locator("#report-conclusion").get_attribute("readonly") is not None
            await page.locator("#report-panel").screenshot(path=str(tmp_path / "report.png"))

            # The end, the patient leaves: the cabin's part reaches the hub, the GP's mail goes.
            await expect(page.locator("#end")).to_be_enabled(timeout=60_000)
            await page.click("#end")
            ctx = nangis.ctx
            assert ctx is not None
            await until(lambda: ctx.lifecycle.state is State.CHECKOUT, HANDOVER_S, "checkout")
            await cabin_leaves(nangis)

            async def delivered() -> bool:
                row = await record_row(hub)
                return row is not None and row.cabin_part is not None and bool(inbox.received())

            await until(delivered, HANDOVER_S, "the record at the hub and its mail sent")
            mail = inbox.received()[0]
            assert mail.rcpt_tos == [GP_ADDRESS] and mail.tls

            # "Mes consultations": the consultation, its deliveries, the PDF.
            history = await context.new_page()
            history_problems, history_refused = watch(history)
            await history.goto(f"{hub.url}/doctor/consultations")
            item = history.locator("tr.consultation")
            await expect(item).to_have_count(1)
            await expect(item.locator(".patient")).to_have_text("Hélène DUPONT")
            await expect(item.locator(".conclusion")).to_have_text(CONCLUSION)
            await expect(item.locator(".report-state")).to_contain_text("signé le")
            mail_state = item.locator('.delivery[data-channel="mail"]')
            await expect(mail_state).to_have_attribute("data-state", "delivered", timeout=WAIT_MS)
            await expect(mail_state).to_contain_text("Courriel au médecin traitant : remis")
            await expect(item.locator('.delivery[data-channel="print"]')).to_be_visible()

            # Found by the name without its accent, and by the day; not by another name.
            await history.fill("#search-text", "helene")
            await history.click("#search-form button[type=submit]")
            await expect(item).to_have_count(1)
            await history.fill("#search-text", "Martineau")
            await history.click("#search-form button[type=submit]")
            await expect(history.locator("#history-empty")).to_be_visible()
            await expect(item).to_have_count(0)
            today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
            await history.fill("#search-text", "")
            await history.fill("#search-date", today.isoformat())
            await history.click("#search-form button[type=submit]")
            await expect(item).to_have_count(1)
            await history.screenshot(path=str(tmp_path / "history.png"))

            href = await item.locator("a.pdf").get_attribute("href")
            assert href is not None
            pdf = await history.request.get(str(hub.url) + href)
            assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
            text = pdf_text(await pdf.body())
            assert CONCLUSION in text and "Auscultation : quelques sibilants" in text

            # Another doctor of the site: neither the list nor the PDF.
            other = await browser.new_context(locale="fr-FR")
            bernard = await other.new_page()
            await log_in(bernard, str(hub.url), "dr.bernard", "/doctor")
            await bernard.goto(f"{hub.url}/doctor/consultations")
            await expect(bernard.locator("#history-empty")).to_be_visible()
            denied = await bernard.request.get(str(hub.url) + href)
            assert denied.status == 404

            assert refused == [] and history_refused == [], (refused, history_refused)
            assert problems == [] and history_problems == [], (problems, history_problems)
        async with hub.db.read() as s:
            states = {(d.channel, d.state) for d in await s.scalars(select(RecordDelivery))}
        assert ("mail", "delivered") in states, states
    finally:
        await cabins.stop()


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
