"""Walks the README's consultation through the real demo and takes its screenshots.

It does what a newcomer does after `make demo`, with the same processes:

- starts `kiosk demo --headless` (its own state directory, the hub on a free port): the
  hub in that process, three cabin daemons (Nangis for the touchscreen; Chelles and
  Moret get simulated patients), and reads the links and the appointment code it prints;
- the patient checks in at Nangis on the touchscreen app (Textual, driven by its Pilot as
  a finger would, talking to Nangis's local API with its ui-token like `kiosk ui`), with
  the printed code;
- the doctor opens the printed console link in headless Debian Chromium (fake camera),
  sees Hélène in the waiting room, takes her, joins, asks for a blood pressure, chats,
  signs a prescription (printed by the real CUPS to the cups-pdf queue, whose PDF text
  is checked) and ends;
- the coordinator's link shows Nangis's bookings of the day (Hélène checked in), the
  technician's link the fleet dashboard with the three cabins, each role in its own
  browser context (its own session cookie);
- the doctor writes and signs the consultation report; at checkout the patient asks for
  its printed copy (the cups-pdf PDF's first page drawn by pdftoppm);
- the patient leaves; the referent logs the disinfection (PIN 1234), the cabin is idle;
  the doctor's "Mes consultations" lists the consultation, its record delivered.

Every step waits with a bound and raises if it does not happen. Screenshots: the hub's
pages with page.screenshot, the touchscreen with Textual's SVG export drawn by Chromium.
Needs the CUPS scheduler (`make cups` if `lpstat -r` says it is not running).

    .venv/bin/python docs/make_screenshots.py [docs/img]     # about three minutes
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from textual.pilot import Pilot  # noqa: E402

from hub.demo.fleet import CABINS  # noqa: E402
from hub.demo.people import HELENE  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.client import DaemonClient  # noqa: E402
from tests.chromium import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.polling import until  # noqa: E402
from tests.ui.pilot_helpers import keyboard, keypad, touch  # noqa: E402

UI_SIZE = (120, 45)
PAGE_VIEWPORT = {"width": 1400, "height": 1000}
START_S = 90.0  # the hub and three cabins start in ~15 s; allow for a loaded machine
STEP_S = 30.0  # bound on each step (a call on a loaded 2-core machine)
CONTACT_S = 75.0  # the demo's longest disinfectant contact time is 60 s
STOP_S = 15.0  # SIGTERM → the demo stopped its cabins and its hub
NANGIS = CABINS[0]  # the touchscreen's cabin
PRESCRIPTION_PROBLEMS = """() => JSON.stringify({
  invalid: [...document.querySelectorAll('.invalid')].map(e => e.dataset.path),
  errors: [...document.querySelectorAll('.field-error')].map(e => e.textContent).filter(t => t),
  jobs: document.getElementById('print-jobs').textContent,
  page: document.getElementById('errors').textContent})"""
FRAMES_JS = (
    "() => { const v = document.getElementById('remote-video');"
    " return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0; }"
)
# The coordinator's screen has drawn a day's bookings (its static title says "du jour").
DAY_SHOWN = "() => document.getElementById('day-title').textContent !== 'Rendez-vous du jour'"
MEDICATION = "Paracétamol 500 mg comprimé"
FINDINGS = "Gorge rouge, auscultation pulmonaire normale"
CONCLUSION = "Rhinopharyngite probablement virale"
ADVICE = "Boire abondamment, paracétamol si fièvre"
POSOLOGY = "1 comprimé 3 fois par jour si fièvre"
PDF_DIRS = [Path.home() / "PDF", Path("/root/PDF")]


@dataclass(frozen=True)
class Banner:
    """What `kiosk demo` printed before it serves."""

    hub: str
    doctor: str
    coordinator: str
    technician: str
    status: str  # Nangis's cabin API
    code: str  # Hélène's appointment code at Nangis


class Demo:
    """`kiosk demo --headless` as a process: its banner, then its output echoed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.echo: asyncio.Task[None] | None = None

    async def line_starting(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(START_S):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"walkthrough: the demo exited before '{prefix}'")
                line = raw.decode().rstrip("\n")
                print("demo:", line)
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()

    async def banner(self) -> Banner:
        hub = await self.line_starting("Hub: ")
        doctor = await self.line_starting("Doctor console: ")
        coordinator = await self.line_starting("Coordinator screen: ")
        technician = await self.line_starting("Fleet dashboard: ")
        status = await self.line_starting("Status: ")
        appointment = await self.line_starting("Appointment code: ")
        code = appointment.split()[0]
        who = f"({HELENE.given_name} {HELENE.family_name}, born {HELENE.birth_date})"
        if not (len(code) == 6 and code.isdigit() and who in appointment):
            raise AssertionError(f"walkthrough: unexpected appointment line {appointment!r}")
        # Whatever the demo prints from now on goes on our output, and never fills the pipe.
        self.echo = asyncio.ensure_future(self._echo())
        return Banner(hub, doctor, coordinator, technician, status, code)

    async def _echo(self) -> None:
        assert self.proc.stdout is not None
        while raw := await self.proc.stdout.readline():
            print("demo:", raw.decode().rstrip("\n"))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_S):
                await self.proc.wait()
                if self.echo is not None:
                    await self.echo
        except TimeoutError as exc:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"walkthrough: the demo did not stop within {STOP_S:g} s") from exc
        finally:
            if self.echo is not None:
                self.echo.cancel()


class Walkthrough:
    def __init__(self, out: Path, browser: Any, banner: Banner) -> None:
        self.out = out
        self.browser = browser
        self.banner = banner
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
        # No focus or hover highlight: a finger leaves none.
        pilot.app.screen.set_focus(None)
        await pilot.hover(None, offset=(0, 0))  # the top bar's title
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

    async def open_role(self, link: str, lands_on: str) -> Any:
        """A printed demo-login link in a browser context of its own (that role's
        session cookie), on the page it redirects to."""
        # A French browser in the department's time zone (the queue shows its clock).
        context = await self.browser.new_context(
            viewport=PAGE_VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris"
        )
        page = await context.new_page()

        async def accept(dialog: Any) -> None:
            await dialog.accept()

        page.on("dialog", accept)
        page.set_default_timeout(STEP_S * 1000)
        await page.goto(link)
        await page.wait_for_url(f"**{lands_on}")
        return page

    async def page_shot(self, page: Any, name: str, down_to: str | None = None) -> None:
        """The page, once its error line is empty (an error banner is no screenshot);
        with ``down_to``, only from its top to the bottom of that element."""
        errors = (await page.text_content("#errors") or "").strip()
        if errors:
            raise AssertionError(f"walkthrough: {name}: the page says {errors!r}")
        path = self.out / f"{name}.png"
        if down_to is None:
            await page.screenshot(path=str(path), full_page=True)
        else:
            box = await page.locator(down_to).bounding_box()
            bottom = box["y"] + box["height"] + 16
            clip = {"x": 0, "y": 0, "width": PAGE_VIEWPORT["width"], "height": bottom}
            await page.screenshot(path=str(path), clip=clip)
        self.shots.append(path)

    async def element_shot(self, page: Any, selector: str, name: str) -> None:
        path = self.out / f"{name}.png"
        await page.locator(selector).screenshot(path=str(path))
        self.shots.append(path)

    async def pdf_shot(self, pdf: Path, name: str) -> None:
        """The PDF's first page as the patient holds it (pdftoppm, 70 dpi)."""
        stem = self.out / name
        await asyncio.to_thread(
            subprocess.run,
            ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(stem)],
            check=True,
        )  # fmt: skip
        self.shots.append(stem.with_suffix(".png"))


def pdf_text(pdf: Path) -> str:
    run = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return run.stdout


def pdfs() -> set[Path]:
    return {p for d in PDF_DIRS if d.is_dir() for p in d.glob("*.pdf")}


async def printed_prescription(before: set[Path]) -> Path:
    """Our prescription among the PDFs cups-pdf wrote since ``before``: other runs on
    this machine (tests, another demo) print to the same queue meanwhile."""
    wanted = [MEDICATION, POSOLOGY, HELENE.family_name.upper(), HELENE.given_name.upper()]
    return await printed_with(before, wanted)


async def printed_with(before: set[Path], wanted: list[str]) -> Path:
    """The first PDF cups-pdf wrote since ``before`` whose text holds every word wanted."""
    seen: dict[Path, str] = {}
    deadline = time.monotonic() + STEP_S
    while True:
        for pdf in sorted(pdfs() - before - set(seen)):
            try:
                seen[pdf] = await asyncio.to_thread(pdf_text, pdf)
            except subprocess.CalledProcessError:
                continue  # still being written: read it again next time
            text = " ".join(seen[pdf].split())
            if all(w.upper() in text.upper() for w in wanted):
                return pdf
        if time.monotonic() > deadline:
            raise AssertionError(
                f"walkthrough: no PDF with {wanted} in {PDF_DIRS} (new ones: {sorted(seen)})"
            )
        await asyncio.sleep(0.2)


async def tap(pilot: Pilot[None], selector: str) -> None:
    """Touches a widget, scrolling it into view first (the checklist is taller)."""
    await pilot.pause()
    pilot.app.screen.query_one(selector).scroll_visible(animate=False)
    await pilot.pause()
    await touch(pilot, selector)


def status_says(app: Any, sid: str, word: str) -> bool:
    from textual.widgets import Static

    return word in str(app.screen.query_one(f"#status-{sid}", Static).content)


def shown(app: Any, selector: str) -> bool:
    return bool(app.screen.query(selector))


async def check_in(w: Walkthrough, pilot: Pilot[None]) -> None:
    code = w.banner.code
    await w.on_screen(pilot, "WelcomeScreen")
    await w.text_on_screen(pilot, code)  # on the demo's bottom line
    await w.patient_shot(pilot, "patient-1-welcome", "Accueil")
    await touch(pilot, "#start")
    await w.on_screen(pilot, "CodeScreen")
    await keypad(pilot, code)
    await w.patient_shot(pilot, "patient-2-code", "Code du rendez-vous")
    await touch(pilot, "#next")
    await w.on_screen(pilot, "IdentityScreen")
    await keyboard(pilot, HELENE.family_name.upper())
    await touch(pilot, "#next")
    await keyboard(pilot, HELENE.given_name.upper())
    await touch(pilot, "#next")
    year, month, day = HELENE.birth_date.split("-")
    await keypad(pilot, day + month + year)
    await touch(pilot, "#next")
    await w.on_screen(pilot, "DetailsScreen")
    await touch(pilot, "#skip")
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


async def coordinator_bookings(w: Walkthrough) -> None:
    """The coordinator's screen on Nangis: the day's bookings, Hélène's marked as come
    (the cabin reported her check-in to the hub)."""
    page = await w.open_role(w.banner.coordinator, "/booking")
    await page.goto(f"{w.banner.hub}/booking?site={NANGIS.site}")
    await page.wait_for_function(DAY_SHOWN)
    row = page.locator(f"#day-list tr[data-code='{w.banner.code}']")
    if not await row.count():  # booked after the last slot of today: tomorrow's first
        await page.click("#next-day")
        await row.wait_for()

    # The screen does not follow the day live: the coordinator reloads it.
    deadline = time.monotonic() + STEP_S
    while "Venu" not in (await row.text_content() or ""):
        if time.monotonic() > deadline:
            raise AssertionError("walkthrough: Hélène's booking not marked as come")
        await asyncio.sleep(0.5)
        await page.reload()
        await page.wait_for_function(DAY_SHOWN)
        await row.wait_for()
    text = await row.text_content() or ""
    if HELENE.family_name.upper() not in text:
        raise AssertionError(f"walkthrough: Hélène's booking row reads {text!r}")
    await w.page_shot(page, "coordinator-booking")
    await page.context.close()


async def fleet_dashboard(w: Walkthrough) -> None:
    """The technician's dashboard: the three cabins online, Nangis in consultation."""
    page = await w.open_role(w.banner.technician, "/fleet")
    await page.wait_for_selector("#link-state.ok")
    for cabin in CABINS:
        row = f"section.site[data-site={cabin.site}] tr[data-cabin={cabin.cabin_id}]"
        await page.wait_for_selector(f"{row} td.connection strong.ok")
        await page.wait_for_selector(f"{row} td.instruments li[data-instrument]")
    nangis = f"tr[data-cabin={NANGIS.cabin_id}] td.state:has-text('En consultation')"
    await page.wait_for_selector(nangis)
    await w.page_shot(page, "fleet-dashboard")
    await page.context.close()


async def fill_prescription(page: Any) -> None:
    fields = {
        "prescriber.address": "2 rue de Melun, 77000 Melun, France",
        "prescriber.phone": "+33 1 23 45 67 89",
        "prescriber.email": "c.martin@example.fr",
        "items.0.medication": MEDICATION,
        "items.0.posology": POSOLOGY,
        "items.0.duration": "5 jours",
    }
    for path, value in fields.items():
        locator = page.locator(f"[data-path='{path}']")
        if not await locator.input_value():
            await locator.fill(value)
    sex = await page.locator("[data-path='patient.sex']").input_value()
    if sex != HELENE.sex:  # from the booking
        raise AssertionError(f"walkthrough: the console shows sex {sex!r}, not the booking's")


async def check_prescriber_from_account(page: Any) -> None:
    """The prescriber comes from the demo doctor's account (hub/demo/accounts.py)."""
    expected = {"rpps": "10003456786", "address": "2 rue de Melun, 77000 Melun, France"}
    for field, value in expected.items():
        got = await page.input_value(f"[data-path='prescriber.{field}']")
        if got != value:
            raise AssertionError(f"walkthrough: the console shows {field} {got!r}, not {value!r}")


async def take_from_queue(w: Walkthrough) -> Any:
    """The doctor's waiting room with Hélène at Nangis (and whoever the simulated cabins
    have waiting by now), then "Prendre en charge"."""
    page = await w.open_role(w.banner.doctor, "/doctor")
    await page.wait_for_selector("#link-state.ok")
    entry = f".queue-entry[data-cabin={NANGIS.cabin_id}]"
    await page.wait_for_selector(f"{entry}:has-text('{HELENE.given_name}')")
    await page.wait_for_selector(f"{entry} button.take:enabled")
    # Down to the waiting room: the console's CSS shows the consultation panel, empty,
    # under it although the page hides it (`main { display: grid }` in console.css).
    await w.page_shot(page, "doctor-0-queue", down_to="#queue-panel")
    await page.click(f"{entry} button.take")
    await page.wait_for_selector("#consultation-panel:not([hidden])")
    await page.wait_for_selector("#cabin-state[data-state=waiting]")
    await page.wait_for_selector(f"#patient:has-text('{HELENE.family_name}')")
    await check_prescriber_from_account(page)
    await w.page_shot(page, "doctor-1-waiting")
    return page


async def consultation(w: Walkthrough, pilot: Pilot[None], page: Any) -> Path:
    await page.click("#join")
    await w.on_screen(pilot, "ConsultationScreen")
    await page.wait_for_function(f"() => ({FRAMES_JS})() > 30")  # the cabin's video

    # The doctor asks for a blood pressure; the simulated monitor measures.
    await page.click("button.measure[data-instrument=tensiometre]")
    await page.wait_for_selector("#measurements tr:has-text('mmHg')")
    await w.text_on_screen(pilot, "mmHg")
    greeting = f"Bonjour madame {HELENE.family_name}"
    await page.fill("#chat-input", f"{greeting}, comment allez-vous ?")
    await page.press("#chat-input", "Enter")
    await w.text_on_screen(pilot, greeting)
    await touch(pilot, "#quick-1")
    await page.wait_for_selector("#chat-log .patient")
    await page.wait_for_selector("#quality-page:has-text('kb/s')")
    await page.wait_for_selector("#quality-cabin:has-text('kb/s')")
    await w.patient_shot(pilot, "patient-5-consultation", "Consultation")
    await w.page_shot(page, "doctor-2-call")
    await fleet_dashboard(w)

    # The prescription, signed and printed in the booth.
    before = pdfs()
    await fill_prescription(page)
    await page.click("#sign-print")
    try:
        await page.wait_for_selector("#print-jobs li[data-state=completed]")
    except Exception as exc:
        problems = await page.evaluate(PRESCRIPTION_PROBLEMS)
        raise AssertionError(f"walkthrough: the prescription did not print: {problems}") from exc
    await w.page_shot(page, "doctor-3-prescription")
    pdf = await printed_prescription(before)

    # The report: the reason came from the check-in, the blood pressure is in it.
    await page.wait_for_selector('#report-measurements li[data-code="8480-6"]')
    await page.fill("#report-findings", FINDINGS)
    await page.fill("#report-conclusion", CONCLUSION)
    await page.fill("#report-advice", ADVICE)
    await page.click("#follow-up-presets button.preset")
    await page.click("#report-sign")
    await page.wait_for_selector("#report-status[data-state=signed]")
    await w.element_shot(page, "#report-panel", "doctor-4-report")

    await page.click("#end")
    await w.on_screen(pilot, "CheckoutScreen")
    await w.text_on_screen(pilot, "ordonnance est imprimée")
    await w.text_on_screen(pilot, "compte rendu imprimé")
    await w.patient_shot(pilot, "patient-6-checkout", "Fin de consultation")
    # The patient asks for the printed copy of the report.
    before = pdfs()
    await touch(pilot, "#copy-yes")
    copy = await printed_with(before, [CONCLUSION, HELENE.family_name.upper()])
    await w.pdf_shot(copy, "report-copy")
    await page.context.close()
    return pdf


async def history(w: Walkthrough) -> None:
    """The doctor's "Mes consultations", once the cabin has handed the record over."""
    page = await w.open_role(w.banner.doctor, "/doctor")
    await page.goto(f"{w.banner.hub}/doctor/consultations")
    await page.wait_for_selector("tr.consultation .delivery")
    await page.wait_for_selector(f"tr.consultation:has-text('{CONCLUSION}')")
    await w.page_shot(page, "doctor-5-history", down_to="#history-panel")
    await page.context.close()


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
        await until(partial(shown, app, f"#confirm-{sid}"), STEP_S, sid)
    app.screen.scroll_home(animate=False)
    await w.patient_shot(pilot, "patient-7-checklist", "Désinfection")
    for sid in steps:
        await until(partial(status_says, app, sid, "Prêt"), CONTACT_S, f"contact time of {sid}")
        await tap(pilot, f"#confirm-{sid}")
        await until(partial(status_says, app, sid, "Fait"), STEP_S, f"{sid} confirmed")
    await tap(pilot, "#finish")
    await w.on_screen(pilot, "WelcomeScreen")


def nangis_client(state: Path, banner: Banner) -> DaemonClient:
    """Nangis's local API as `kiosk ui --state-dir` finds it: runtime.json and ui-token in
    the cabin's folder of the demo's state directory."""
    folder = state / NANGIS.cabin_id
    url = str(json.loads((folder / "runtime.json").read_text())["url"])
    if f"{url}/api/status" != banner.status:
        raise AssertionError(f"walkthrough: {folder} says {url}, the demo {banner.status}")
    return DaemonClient.from_state_dir(url, folder)


async def walk(out: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="kiosk-walkthrough-") as tmp:
        state = Path(tmp) / "state"
        proc = await asyncio.create_subprocess_exec(
            *[str(REPO / ".venv/bin/kiosk"), "demo", "--headless", "--port", "0"],
            *["--state-dir", str(state)],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=REPO,
        )
        demo = Demo(proc)
        try:
            banner = await demo.banner()
            client = nangis_client(state, banner)
            # The bottom line `kiosk demo` gives its touchscreen (hub/demo/cli.py).
            notice = f"Console médecin / doctor console: {banner.hub}/doctor"
            notice += f" · code : {banner.code}"
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                w = Walkthrough(out, browser, banner)
                try:
                    app = KioskApp(client, notice=notice)
                    async with app.run_test(size=UI_SIZE) as pilot:
                        await check_in(w, pilot)
                        page = await take_from_queue(w)
                        await coordinator_bookings(w)
                        pdf = await consultation(w, pilot, page)
                        print("prescription printed:", pdf)
                        await disinfection(w, pilot)
                        await history(w)
                finally:
                    await browser.close()
                    await client.close()
        finally:
            await demo.stop()
    return w.shots


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "img")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    started = time.monotonic()
    for shot in asyncio.run(walk(out)):
        print(shot)
    print(f"walkthrough: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
