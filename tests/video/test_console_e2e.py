"""End to end: the real doctor console in headless Debian Chromium against the cabin
daemon, inside a network namespace of its own that has only ``lo``.

The outer test re-runs this file's inner test under ``unshare -n`` (so it can cut the
loopback with nftables without touching the machine); the inner one drives the page with
Playwright: login (a wrong password first), the waiting patient, join, frames decoded on
both sides, a measurement shown live, chat and a "measure" request reaching the cabin's
bus, a malformed signaling message refused, a network cut and recovery without a page
load, a page reload that rejoins, and the end of the consultation."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from devices.measurement import Measurement, Observation
from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    InstrumentStateChanged,
    MeasurementRequested,
    MeasurementTaken,
)
from kiosk.lifecycle import PATIENT_STATES, State
from tests.chromium import CHROMIUM, headless_chromium
from tests.video.conftest import DOCTOR_PASSWORD, DOCTOR_USER, RunningCabin
from tests.video.doctor_client import wait_for

NETNS_ENV = "KIOSK_CALL_TEST_NETNS"
IN_NETNS = os.environ.get(NETNS_ENV) == "1"
REPO = Path(__file__).resolve().parents[2]
CUT_S = 6.0  # long enough for both sides to notice (the cabin after 4 s without frames)
STEP_S = 25.0

PATIENT = {
    "family_name": "Dupont",
    "given_name": "Hélène",
    "birth_date": "1948-03-02",
    "sex": "F",
    "age": 78,
    "reason": "Toux depuis dix jours",
    "answers": {"Fièvre ?": "non", "Allergies ?": "pénicilline"},
}


class FakeCheckin:
    """Stands in for the check-in component: the patient of the running session."""

    def __init__(self, lifecycle: Any) -> None:
        self.lifecycle = lifecycle

    def current_patient(self) -> dict[str, Any] | None:
        return PATIENT if self.lifecycle.state in PATIENT_STATES else None


def test_console_end_to_end_in_own_network_namespace() -> None:
    if IN_NETNS:
        pytest.skip("this is the outer test; the inner one is running")
    for tool in ("unshare", "ip", "nft", CHROMIUM):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (scripts/debian-packages.txt installs it)")
    here = Path(__file__).relative_to(REPO)
    inner = f"{here}::test_console_inner {here}::test_demo_link_call_inner"
    script = (
        f"ip link set lo up && exec {sys.executable} -m pytest -q -p no:cacheprovider -x {inner}"
    )
    result = subprocess.run(
        ["unshare", "-n", "--", "sh", "-c", script],
        cwd=REPO,
        env={**os.environ, NETNS_ENV: "1"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]
    assert "2 passed" in result.stdout


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


@pytest.mark.skipif(not IN_NETNS, reason="runs inside its own network namespace")
async def test_console_inner(cabin: RunningCabin, browser: Any) -> None:
    ctx = cabin.ctx
    ctx.components["checkin"] = FakeCheckin(ctx.lifecycle)  # type: ignore[assignment]
    consultation = ctx.components["call"].consultation  # type: ignore[attr-defined]
    cabin.patient_waiting()
    page = await browser.new_page()

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)

    # Login: a wrong password is refused, then the console.
    await page.goto(f"{cabin.url}/doctor")
    await page.fill("#username", DOCTOR_USER)
    await page.fill("#password", "not the password")
    await page.click("#login-button")
    await page.wait_for_selector("#login-error:has-text('incorrect')")
    await page.fill("#password", DOCTOR_PASSWORD)
    await page.click("#login-button")
    await page.wait_for_selector("#cabin-state[data-state=waiting]")
    patient = await page.text_content("#patient")
    assert patient is not None
    assert "Hélène Dupont" in patient and "Toux depuis dix jours" in patient
    assert "pénicilline" in patient

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

        # The signaling socket drops alone: the page reconnects it and rejoins.
        generation = consultation.generation
        await page.evaluate("() => call.ws.close()")
        await wait_call_state(seen, "reconnecting")
        await wait_call_state(seen, "connected")
        assert consultation.generation > generation
        assert await page.evaluate("() => window.samePage") == "yes"

        # A page reload rejoins the same consultation (and shows what was measured).
        generation = consultation.generation
        await page.reload()
        await wait_call_state(seen, "connected")
        assert consultation.generation > generation
        assert ctx.lifecycle.state is State.IN_CONSULTATION
        await page.wait_for_selector("#measurements tr:has-text('131 mmHg')")
        await wait_page_frames_advance(page)

        # The prescription: the doctor's account fills the prescriber's e-mail (the
        # conftest's account has no address or phone: those stay empty).
        assert await page.input_value("[data-path='prescriber.email']") == "c.martin@example.fr"
        assert await page.input_value("[data-path='prescriber.address']") == ""
        # The printer's problems show on the fields, then it prints.
        await page.fill("[data-path='prescriber.specialty']", "Médecine générale")
        await page.fill("[data-path='prescriber.rpps']", "10003456782")  # bad check digit
        await page.fill("[data-path='prescriber.address']", "2 rue de Melun, 77000 Melun, France")
        await page.fill("[data-path='prescriber.phone']", "01 23 45 67 89")
        await page.fill("[data-path='prescriber.email']", "c.martin@example.fr")
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

    # The patient leaves: nothing of them stays on the doctor's page.
    ctx.lifecycle.transition(State.AWAITING_DISINFECTION, "test: patient left")
    await page.wait_for_selector("#cabin-state[data-state=awaiting_disinfection]")
    assert await page.input_value("[data-path='patient.family_name']") == ""
    assert await page.locator("#chat-log p").count() == 0
    assert await page.locator("#measurements tr").count() == 0
    assert "Dupont" not in (await page.text_content("body") or "")
    await page.close()


@pytest.mark.skipif(not IN_NETNS, reason="runs inside its own network namespace")
async def test_demo_link_call_inner(tmp_path: Path, browser: Any) -> None:
    """The demo configuration as shipped: its printed link logs the demo doctor in and
    the call connects over lo alone (ice_loopback, the demo doctor account)."""
    import argparse

    from kiosk.daemon import Daemon
    from kiosk.demo import REPO_CONFIG, demo_settings

    settings = demo_settings(argparse.Namespace(config=REPO_CONFIG, port=0), tmp_path)
    daemon = Daemon(settings, demo_login_token="demo-link-token")
    ctx = await daemon.start()
    try:
        cabin = RunningCabin(daemon, ctx)
        cabin.patient_waiting()
        page = await browser.new_page()
        await page.goto(f"{cabin.url}/doctor/demo-login?token=demo-link-token")
        await page.wait_for_selector("#cabin-state[data-state=waiting]")
        await page.click("#join")
        await wait_for(lambda: ctx.lifecycle.state is State.IN_CONSULTATION, STEP_S)
        await wait_page_frames_advance(page)
        await page.close()
    finally:
        await daemon.stop()
