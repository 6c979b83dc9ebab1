"""End to end: the hub's doctor console in headless Debian Chromium, the hub and a cabin
daemon enrolled at it, inside a network namespace of its own that has only ``lo``.

The outer test re-runs this file's inner test under ``unshare -n`` (so it can cut the
loopback with nftables without touching the machine); the inner one drives the page with
Playwright: login (a wrong password first, then the second factor enrolled from the
page's secret), the waiting room, "Prendre en charge", join, frames decoded on both
sides, a measurement shown live, chat and a "measure" request reaching the cabin's bus,
a malformed signaling message refused by the hub, a network cut (media and both links to
the hub) and recovery without a page load, the console's socket dropping alone while the
peer-to-peer call goes on, a page reload that rejoins, and the end of the consultation."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from devices.measurement import Measurement, Observation
from hub.auth.totp import code_at
from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    InstrumentStateChanged,
    MeasurementRequested,
    MeasurementTaken,
)
from kiosk.lifecycle import State
from tests.chromium import CHROMIUM, headless_chromium
from tests.hub.fleet import DOCTOR_PASSWORD
from tests.netns import run_inner_in_own_netns
from tests.video.conftest import RunningCabin
from tests.video.doctor_client import wait_for

NETNS_ENV = "KIOSK_CALL_TEST_NETNS"
IN_NETNS = os.environ.get(NETNS_ENV) == "1"
CUT_S = 6.0  # long enough for both sides to notice (the cabin after 4 s without frames)
STEP_S = 25.0


def test_console_end_to_end_in_own_network_namespace() -> None:
    if IN_NETNS:
        pytest.skip("this is the outer test; the inner one is running")
    run_inner_in_own_netns(__file__, "test_console_inner", NETNS_ENV, ("nft", CHROMIUM))


def nft(*commands: str) -> None:
    for command in commands:
        subprocess.run(["nft", *command.split()], check=True, capture_output=True)


def cut_network() -> None:
    """Drop every packet on lo (media, signaling): the namespace's only link."""
    nft(
        "add table inet cut",
        "add chain inet cut input { type filter hook input priority 0 ; }",
        "add rule inet cut input drop",
    )


def restore_network() -> None:
    nft("delete table inet cut")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with headless_chromium() as chromium:
        yield chromium


async def page_frames(page: Any) -> int:
    frames: int = await page.evaluate(
        "() => document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames"
    )
    return frames


PAGE_DEBUG = """async () => {
  const v = document.getElementById('remote-video');
  const out = {paused: v.paused, readyState: v.readyState, width: v.videoWidth,
    tracks: v.srcObject ? v.srcObject.getTracks().map(t => t.kind + ':' + t.readyState) : null,
    ice: call.pc ? call.pc.iceConnectionState : null, generation: call.generation};
  if (call.pc) {
    const stats = await call.pc.getStats();
    stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video')
      out['in_' + s.mid] = [s.framesDecoded, s.packetsReceived]; });
  }
  return JSON.stringify(out);
}"""


async def wait_page_frames_advance(page: Any, by: int = 10) -> None:
    start = await page_frames(page)
    try:
        async with asyncio.timeout(STEP_S):
            while await page_frames(page) < start + by:  # noqa: ASYNC110 - polling the page
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"no frames in the page: {await page.evaluate(PAGE_DEBUG)}")
    width = await page.evaluate("() => document.getElementById('remote-video').videoWidth")
    assert width > 0


PAGE_AUDIO = """async () => {
  const stats = await call.pc.getStats();
  for (const s of stats.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio')
      return [s.totalSamplesReceived || 0, s.totalAudioEnergy || 0];
  }
  return [0, 0];
}"""


async def wait_page_audio(page: Any, seconds: float = 1.5) -> None:
    """The page's audio receiver got `seconds` of samples with some energy in them."""
    try:
        async with asyncio.timeout(STEP_S):
            while True:
                samples, energy = await page.evaluate(PAGE_AUDIO)
                if samples >= seconds * 48_000 and energy > 0:
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"no audio in the page: {await page.evaluate(PAGE_AUDIO)}")


async def wait_call_state(seen: Any, state: str) -> None:
    async with asyncio.timeout(STEP_S):
        while True:
            event = await seen.get()
            if isinstance(event, CallStateChanged) and event.state == state:
                return


async def next_event(seen: Any, kind: type) -> Any:
    async with asyncio.timeout(STEP_S):
        while True:
            event = await seen.get()
            if isinstance(event, kind):
                return event


async def log_in(page: Any, hub_url: str, username: str) -> None:
    """At the hub's login page: a wrong password first, then the right one, then the
    second factor enrolled from the page's secret (as an authenticator app would)."""
    await page.goto(f"{hub_url}/doctor")  # not logged in: sent to /login
    await page.wait_for_url("**/login")
    await page.fill("#username", username)
    await page.fill("#password", "not the password")
    await page.click("#password-form button[type=submit]")
    await page.wait_for_selector("#errors:has-text('incorrect')")
    await page.fill("#password", DOCTOR_PASSWORD)
    await page.click("#password-form button[type=submit]")
    await page.wait_for_selector("#enrol-step:not([hidden]) svg")
    secret = (await page.text_content("#secret") or "").strip()
    await page.fill("#enrol-code", code_at(secret, datetime.now(UTC)))
    await page.click("#enrol-form button[type=submit]")
    await page.wait_for_selector("#recovery-codes li")
    assert await page.locator("#recovery-codes li").count() == 10
    await page.click("#recovery-done")
    await page.wait_for_url("**/doctor")


@pytest.mark.skipif(not IN_NETNS, reason="runs inside its own network namespace")
async def test_console_inner(cabin: RunningCabin, browser: Any) -> None:
    ctx = cabin.ctx
    consultation = ctx.components["call"].consultation  # type: ignore[attr-defined]
    await cabin.patient_waiting()
    page = await browser.new_page()

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)

    await log_in(page, cabin.hub_url, "dr.martin")
    # The waiting room: the patient, then "Prendre en charge".
    row = page.locator(".queue-entry[data-cabin=call-01]")
    await row.wait_for()
    text = await row.text_content() or ""
    assert "Hélène" in text and "Douleur" in text and "Dupont" not in text
    await row.locator("button.take").click()
    await page.wait_for_selector("#consultation-panel:not([hidden])")
    await page.wait_for_selector("#cabin-state[data-state=waiting]")
    patient = await page.text_content("#patient")
    assert patient is not None
    assert "Hélène Dupont" in patient and "Douleur" in patient

    async with ctx.bus.subscribe(CallStateChanged, ChatMessage, MeasurementRequested) as seen:
        # Join: the call connects, frames are decoded on both sides.
        await page.click("#join")
        await wait_call_state(seen, "connected")
        assert ctx.lifecycle.state is State.IN_CONSULTATION
        await wait_page_frames_advance(page)
        peer = consultation.peer
        await wait_for(lambda: peer.frames.video > 10, STEP_S)
        assert peer.frames.width > 0
        # The doctor's browser decodes the cabin's microphone (mono Opus) and hears the beep.
        await wait_page_audio(page)

        # A measurement from an instrument appears in the page.
        ctx.bus.publish(
            MeasurementTaken(
                instrument="tensiometre",
                measurement=Measurement(
                    kind="blood_pressure",
                    observations=(
                        Observation("8480-6", "Systolique", Decimal(131), "mm[Hg]"),
                        Observation("8462-4", "Diastolique", Decimal(84), "mm[Hg]"),
                    ),
                ),
            )
        )
        await page.wait_for_selector("#measurements tr:has-text('131 mmHg')")

        # The doctor's chat line and a "measure" request reach the cabin's bus.
        await page.fill("#chat-input", "Bonjour madame Dupont")
        await page.press("#chat-input", "Enter")
        chat = await next_event(seen, ChatMessage)
        assert (chat.sender, chat.text) == ("doctor", "Bonjour madame Dupont")
        await page.click("button.measure[data-instrument=tensiometre]")
        request = await next_event(seen, MeasurementRequested)
        assert request.instrument == "tensiometre"

        # The patient's chat line, an instrument's state and call quality reach the page.
        ctx.bus.publish(ChatMessage(sender="patient", text="Je vous entends mal"))
        await page.wait_for_selector("#chat-log .patient:has-text('Je vous entends mal')")
        low = InstrumentStateChanged(
            instrument="tensiometre",
            kind="blood_pressure",
            state="low_battery",
            battery_percent=9,
        )
        # (Published until seen: the simulated instrument reports its own state too.)
        async with asyncio.timeout(STEP_S):
            while not await page.locator(".instrument:has-text('batterie 9 %')").count():
                ctx.bus.publish(low)
                await asyncio.sleep(0.2)
        await page.wait_for_selector("#quality-cabin:has-text('RTT')")
        await page.wait_for_selector("#quality-page:has-text('kb/s')")
        if os.environ.get("KIOSK_CONSOLE_SCREENSHOT"):
            await page.set_viewport_size({"width": 1400, "height": 1000})
            await page.screenshot(path=os.environ["KIOSK_CONSOLE_SCREENSHOT"], full_page=True)

        # A malformed signaling message is refused and changes nothing.
        generation = consultation.generation
        await page.evaluate('() => call.ws.send(\'{"type": "answer", "sdp": 42}\')')
        await page.wait_for_selector("#errors:has-text('invalid message')")
        assert ctx.lifecycle.state is State.IN_CONSULTATION
        assert consultation.generation == generation
        assert consultation.call_state == "connected"

        # A network cut, then recovery: the call comes back without a page load.
        await page.evaluate("() => { window.samePage = 'yes'; }")
        cut_network()
        try:
            await wait_call_state(seen, "reconnecting")
            await asyncio.sleep(max(0.0, CUT_S - 4.0))  # keep the cut a while longer
        finally:
            restore_network()
        await wait_call_state(seen, "connected")
        assert consultation.generation > generation
        assert await page.evaluate("() => window.samePage") == "yes"
        await wait_page_frames_advance(page)
        peer = consultation.peer
        await wait_for(lambda: peer.frames.video > 10, STEP_S)

        # The console's socket to the hub drops alone: the page reconnects it, the hub
        # attaches it to the cabin again, and the peer-to-peer call never stopped.
        generation = consultation.generation
        await page.evaluate("() => call.ws.close()")
        await wait_for(lambda: consultation.channel is None, STEP_S)
        await wait_for(lambda: consultation.channel is not None, STEP_S)
        await page.wait_for_selector("#link-state.ok")
        assert consultation.generation == generation
        assert consultation.call_state == "connected"
        assert await page.evaluate("() => window.samePage") == "yes"
        await wait_page_frames_advance(page)

        # A page reload rejoins the same consultation (and shows what was measured).
        generation = consultation.generation
        await page.reload()
        await wait_call_state(seen, "connected")
        assert consultation.generation > generation
        assert ctx.lifecycle.state is State.IN_CONSULTATION
        await page.wait_for_selector("#measurements tr:has-text('131 mmHg')")
        await wait_page_frames_advance(page)

        # The prescription: the doctor's hub account fills the prescriber's e-mail (the
        # test account has no address or phone: those stay empty).
        assert await page.input_value("[data-path='prescriber.email']") == "dr.martin@example.fr"
        assert await page.input_value("[data-path='prescriber.address']") == ""
        # The printer's problems show on the fields, then it prints.
        await page.fill("[data-path='prescriber.specialty']", "Médecine générale")
        await page.fill("[data-path='prescriber.rpps']", "10003456782")  # bad check digit
        await page.fill("[data-path='prescriber.address']", "2 rue de Melun, 77000 Melun, France")
        await page.fill("[data-path='prescriber.phone']", "01 23 45 67 89")
        await page.fill("[data-path='prescriber.email']", "dr.martin@example.fr")
        await page.fill("[data-path='items.0.medication']", "Paracétamol 500 mg comprimé")
        await page.fill("[data-path='items.0.posology']", "1 comprimé 3 fois par jour")
        await page.click("#sign-print")
        await page.wait_for_selector("[data-path='prescriber.rpps'].invalid")
        await page.wait_for_selector("[data-path='items.0.duration'].invalid")
        assert await page.input_value("[data-path='patient.family_name']") == "Dupont"
        await page.fill("[data-path='prescriber.rpps']", "10003456786")
        await page.fill("[data-path='items.0.duration']", "5 jours")
        await page.click("#sign-print")
        await page.wait_for_selector("#print-jobs li[data-state]")
        assert await page.locator(".invalid").count() == 0

        # "Terminer la consultation" → checkout.
        await page.click("#end")
        await wait_for(lambda: ctx.lifecycle.state is State.CHECKOUT, STEP_S)
        await wait_call_state(seen, "ended")

    # The patient leaves: the hub closes the consultation and the page is back to the
    # waiting room, with nothing of them left.
    ctx.lifecycle.transition(State.AWAITING_DISINFECTION, "test: patient left")
    await page.wait_for_selector("#queue-panel:not([hidden])")
    assert await page.input_value("[data-path='patient.family_name']") == ""
    assert await page.locator("#chat-log p").count() == 0
    assert await page.locator("#measurements tr").count() == 0
    assert "Dupont" not in (await page.text_content("body") or "")
    assert "Hélène" not in (await page.text_content("body") or "")
    await page.close()
