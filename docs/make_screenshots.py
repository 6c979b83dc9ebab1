"""Walks the README's consultation through the real demo and takes its screenshots.

It does what a newcomer does after `make demo`, with the same processes:

- starts `kiosk demo --headless` (its own state directory and port);
- the patient checks in on the touchscreen app (Textual, driven by its Pilot as a finger
  would, talking to the demo over the local API like `kiosk ui`), code 123456;
- the doctor opens the printed console link in headless Debian Chromium (fake camera),
  joins, asks for a blood pressure, chats, signs a prescription (printed by the real
  CUPS to the cups-pdf queue, whose PDF text is checked) and ends;
- the patient leaves; the referent logs the disinfection (PIN 1234), the cabin is idle.

Every step waits with a bound and raises if it does not happen. Screenshots: the
console with page.screenshot, the touchscreen with Textual's SVG export drawn by Chromium.

    .venv/bin/python docs/make_screenshots.py [docs/img]     # about two minutes
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from textual.pilot import Pilot  # noqa: E402

from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.client import DaemonClient  # noqa: E402
from tests.chromium import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.polling import until  # noqa: E402
from tests.ui.pilot_helpers import keyboard, keypad, touch  # noqa: E402

UI_SIZE = (120, 45)
CONSOLE_VIEWPORT = {"width": 1400, "height": 1000}
STEP_S = 30.0  # bound on each step (a call on a loaded 2-core machine)
CONTACT_S = 75.0  # the demo's longest disinfectant contact time is 60 s
PRESCRIPTION_PROBLEMS = """() => JSON.stringify({
  invalid: [...document.querySelectorAll('.invalid')].map(e => e.dataset.path),
  errors: [...document.querySelectorAll('.field-error')].map(e => e.textContent).filter(t => t),
  jobs: document.getElementById('print-jobs').textContent,
  page: document.getElementById('errors').textContent})"""
PDF_DIRS = [Path.home() / "PDF", Path("/root/PDF")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Walkthrough:
    def __init__(self, out: Path, browser: Any) -> None:
        self.out = out
        self.browser = browser
        self.shots: list[Path] = []

    def screen_text(self, app: KioskApp) -> str:
        from textual.widgets import Static

        return "\n".join(str(w.content) for w in app.screen.query(Static))

    async def on_screen(self, pilot: Pilot[None], name: str) -> None:
        await pilot.pause()
        await until(lambda: type(pilot.app.screen).__name__ == name, STEP_S, f"screen {name}")
        await pilot.pause()

    async def text_on_screen(self, pilot: Pilot[None], text: str) -> None:
        app = pilot.app
        assert isinstance(app, KioskApp)
        await pilot.pause()
        await until(lambda: text in self.screen_text(app), STEP_S, f"'{text}' on screen")
        await pilot.pause()

    async def patient_shot(self, pilot: Pilot[None], name: str, title: str) -> None:
        pilot.app.screen.set_focus(None)  # no focus highlight: a finger leaves none
        await pilot.pause()
        svg = pilot.app.export_screenshot(title=title)
        page = await self.browser.new_page(viewport={"width": 1500, "height": 1200})
        try:
            await page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            path = self.out / f"{name}.png"
            await page.locator("svg").first.screenshot(path=str(path))
        finally:
            await page.close()
        self.shots.append(path)

    async def doctor_shot(self, page: Any, name: str) -> None:
        path = self.out / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)


def pdf_text(pdf: Path) -> str:
    run = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return run.stdout


async def tap(pilot: Pilot[None], selector: str) -> None:
    """Touches a widget, scrolling it into view first (the checklist is taller)."""
    await pilot.pause()
    pilot.app.screen.query_one(selector).scroll_visible(animate=False)
    await pilot.pause()
    await touch(pilot, selector)


def status_of(app: Any, sid: str) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one(f"#status-{sid}", Static).content)


async def check_in(w: Walkthrough, pilot: Pilot[None]) -> None:
    await w.on_screen(pilot, "WelcomeScreen")
    await w.text_on_screen(pilot, "123456")
    await w.patient_shot(pilot, "patient-1-welcome", "Accueil")
    await touch(pilot, "#start")
    await w.on_screen(pilot, "CodeScreen")
    await keypad(pilot, "123456")
    await w.patient_shot(pilot, "patient-2-code", "Code du rendez-vous")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "IdentityScreen")
    await keyboard(pilot, "DUPONT")
    await touch(pilot, "#next")
    await keyboard(pilot, "HÉLÈNE")
    await touch(pilot, "#next")
    await keypad(pilot, "02031948")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "ConsentScreen")
    await touch(pilot, "#agree-teleconsultation")
    await touch(pilot, "#agree-data_processing")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "QuestionnaireScreen")
    await touch(pilot, "#q-reason-fever_cough")
    await touch(pilot, "#q-allergies-no")
    await touch(pilot, "#q-treatments-no")
    await touch(pilot, "#q-pregnancy-not_applicable")
    await w.patient_shot(pilot, "patient-3-questionnaire", "Questionnaire")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "WaitingScreen")
    await w.patient_shot(pilot, "patient-4-waiting", "En attente du médecin")


async def fill_prescription(page: Any) -> None:
    fields = {
        "prescriber.address": "2 rue de Melun, 77000 Melun, France",
        "prescriber.phone": "+33 1 23 45 67 89",
        "prescriber.email": "c.martin@example.fr",
        "items.0.medication": "Paracétamol 500 mg comprimé",
        "items.0.posology": "1 comprimé 3 fois par jour si fièvre",
        "items.0.duration": "5 jours",
    }
    for path, value in fields.items():
        locator = page.locator(f"[data-path='{path}']")
        if not await locator.input_value():
            await locator.fill(value)
    sex = await page.locator("[data-path='patient.sex']").input_value()
    if sex != "F":  # the demo booking says F
        raise AssertionError(f"walkthrough: the console shows sex {sex!r}, not the booking's")


async def check_prescriber_from_account(page: Any) -> None:
    """The prescriber comes from the demo doctor's account (config/demo.toml)."""
    expected = {"rpps": "10003456786", "address": "2 rue de Melun, 77000 Melun, France"}
    for field, value in expected.items():
        shown = await page.input_value(f"[data-path='prescriber.{field}']")
        if shown != value:
            raise AssertionError(f"walkthrough: the console shows {field} {shown!r}, not {value!r}")


async def consultation(w: Walkthrough, pilot: Pilot[None], console_url: str) -> Path:
    page = await w.browser.new_page(viewport=CONSOLE_VIEWPORT)

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(console_url)
    await page.wait_for_selector("#cabin-state[data-state=waiting]", timeout=STEP_S * 1000)
    await page.wait_for_selector("#patient:has-text('Dupont')")
    await check_prescriber_from_account(page)
    await w.doctor_shot(page, "doctor-1-waiting")

    await page.click("#join")
    await w.on_screen(pilot, "ConsultationScreen")
    frames = "() => document.getElementById('remote-video').getVideoPlaybackQuality()"
    frames += ".totalVideoFrames"

    async def page_frames() -> bool:
        return int(await page.evaluate(frames)) > 30

    await until(page_frames, STEP_S, "the cabin's video in the console")

    # The doctor asks for a blood pressure; the simulated monitor measures.
    await page.click("button.measure[data-instrument=tensiometre]")
    await page.wait_for_selector("#measurements tr:has-text('mmHg')", timeout=STEP_S * 1000)
    await w.text_on_screen(pilot, "mmHg")
    await page.fill("#chat-input", "Bonjour madame Dupont, comment allez-vous ?")
    await page.press("#chat-input", "Enter")
    await w.text_on_screen(pilot, "Bonjour madame Dupont")
    await touch(pilot, "#quick-1")
    await page.wait_for_selector("#chat-log .patient")
    await page.wait_for_selector("#quality-page:has-text('kb/s')", timeout=STEP_S * 1000)
    await w.patient_shot(pilot, "patient-5-consultation", "Consultation")
    await w.doctor_shot(page, "doctor-2-call")

    # The prescription, signed and printed in the booth.
    before = {p for d in PDF_DIRS if d.is_dir() for p in d.glob("*.pdf")}
    await fill_prescription(page)
    await page.click("#sign-print")
    try:
        await page.wait_for_selector("#print-jobs li[data-state=completed]", timeout=STEP_S * 1000)
    except Exception as exc:
        problems = await page.evaluate(PRESCRIPTION_PROBLEMS)
        raise AssertionError(f"walkthrough: the prescription did not print: {problems}") from exc
    await w.doctor_shot(page, "doctor-3-prescription")

    def new_pdfs() -> list[Path]:
        now = {p for d in PDF_DIRS if d.is_dir() for p in d.glob("*.pdf")}
        return sorted(now - before)

    await until(lambda: bool(new_pdfs()), STEP_S, "the PDF in ~/PDF")
    pdf = new_pdfs()[-1]
    text = await asyncio.to_thread(pdf_text, pdf)
    if "Paracétamol" not in text or "DUPONT" not in text.upper():
        raise AssertionError(f"walkthrough: the printed prescription {pdf} lacks its content")

    await page.click("#end")
    await w.on_screen(pilot, "CheckoutScreen")
    await w.text_on_screen(pilot, "ordonnance est imprimée")
    await w.patient_shot(pilot, "patient-6-checkout", "Fin de consultation")
    await page.close()
    return pdf


async def disinfection(w: Walkthrough, pilot: Pilot[None]) -> None:
    await touch(pilot, "#leave")
    await w.on_screen(pilot, "GoodbyeScreen")
    await w.on_screen(pilot, "WelcomeScreen")
    await w.text_on_screen(pilot, "nettoyage")
    await touch(pilot, "#referent")
    await w.on_screen(pilot, "ReferentPinScreen")
    await keypad(pilot, "1234")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "ChecklistScreen")
    app = pilot.app
    await until(lambda: bool(app.screen.query(".step-start")), STEP_S, "the checklist")
    steps = [b.name for b in app.screen.query(".step-start") if b.name]
    for sid in steps:
        await tap(pilot, f"#start-{sid}")
        await until(lambda s=sid: bool(app.screen.query(f"#confirm-{s}")), STEP_S, sid)
    app.screen.scroll_home(animate=False)
    await w.patient_shot(pilot, "patient-7-checklist", "Désinfection")
    for sid in steps:
        await until(lambda s=sid: "Prêt" in status_of(app, s), CONTACT_S, f"contact time of {sid}")
        await tap(pilot, f"#confirm-{sid}")
        await until(lambda s=sid: "Fait" in status_of(app, s), STEP_S, f"{sid} confirmed")
    await tap(pilot, "#finish")
    await w.on_screen(pilot, "WelcomeScreen")


async def walk(out: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="kiosk-walkthrough-") as tmp:
        state = Path(tmp)
        demo = await asyncio.create_subprocess_exec(
            *[str(REPO / ".venv/bin/kiosk"), "demo", "--headless", "--port", str(port)],
            *["--state-dir", str(state)],
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        try:
            assert demo.stdout is not None
            console_url = ""
            for _ in range(3):
                line = (await demo.stdout.readline()).decode()
                print("demo:", line.rstrip())
                if line.startswith("Doctor console: "):
                    console_url = line.split(": ", 1)[1].strip()
            url = f"http://127.0.0.1:{port}"
            client = DaemonClient(url, (state / "ui-token").read_text().strip())
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                w = Walkthrough(out, browser)
                try:
                    app = KioskApp(client)
                    async with app.run_test(size=UI_SIZE) as pilot:
                        await check_in(w, pilot)
                        pdf = await consultation(w, pilot, console_url)
                        print("prescription printed:", pdf)
                        await disinfection(w, pilot)
                finally:
                    await browser.close()
                    await client.close()
        finally:
            demo.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                await demo.wait()
    return w.shots


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "img")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    for shot in asyncio.run(walk(out)):
        print(shot)


if __name__ == "__main__":
    main()
