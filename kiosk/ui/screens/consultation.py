"""Waiting for the doctor, the consultation itself, checkout (printing) and goodbye."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Digits, Static

from hub.shared import l10n
from kiosk.ui.client import ApiError
from kiosk.ui.i18n import N_, _, language
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import AzertyKeyboard, KeyPressed, apply_key

CHAT_MAX = 200
# The waiting time shown is in minutes: refreshing it more often shows nothing new.
WAIT_REFRESH_S = 15.0
CHAT_LINES_SHOWN = 6
# How often checkout asks the daemon whether the signed report is there (the doctor may
# sign it after ending): the question then shows within this long.
COPY_POLL_S = 2.0

# Quick chat answers for a patient who cannot hear the doctor (message ids).
QUICK_MESSAGES = (N_("I cannot hear you"), N_("Can you repeat, please?"), N_("Yes"), N_("No"))

# Device flags worth telling the patient (message ids); the doctor sees them all.
STATUS_NOTES = {
    "cuff_loose": N_("The cuff is loose: put it back as shown, the doctor may ask again."),
    "movement": N_("You moved during the measurement: the doctor may ask again."),
    "irregular_pulse": N_("Irregular pulse detected: the doctor is told."),
}

UNITS = {"mm[Hg]": "mmHg", "/min": "/min", "Cel": "°C", "%": "%", "kg": "kg", "cm": "cm"}


def measurement_lines(measurement: dict[str, Any]) -> tuple[str, str]:
    """(big value, caption) for a measurement from the event stream, the value written
    the way the screen's language writes numbers (37,8 in French, 37.8 in English)."""
    obs = [o for o in measurement.get("observations", []) if _is_number(o.get("value"))]
    if not obs:
        return "--", _("Measurement not available, the doctor will tell you what to do.")
    kind = measurement.get("kind", "")
    if kind == "blood_pressure" and len(obs) >= 2:
        big = f"{_num(obs[0]['value'])}/{_num(obs[1]['value'])}"
        return big, _("Blood pressure") + " (mmHg)"
    first = obs[0]
    unit = UNITS.get(str(first.get("unit")), str(first.get("unit", "")))
    captions = {
        "temperature": _("Temperature"),
        "spo2": _("Oxygen in the blood"),
        "weight": _("Weight"),
        "glucose": _("Blood sugar"),
    }
    return _num(first["value"]), f"{captions.get(kind, str(first.get('display', '')))} ({unit})"


def _is_number(value: object) -> bool:
    """A finite number (the stream brings JSON: an int or a float, None when unavailable)."""
    try:
        l10n.exact(value)
    except (TypeError, ValueError):
        return False
    return True


def _num(value: l10n.Number) -> str:
    return l10n.number(value, language())


class WaitingScreen(KioskScreen):
    TITLE_TEXT = N_("Waiting for the doctor")
    SPOKEN = N_("Thank you. The doctor will appear on the screen in a few minutes.")

    def __init__(self) -> None:
        super().__init__()
        self.since = 0.0

    def body(self) -> ComposeResult:
        notice = Static(self._unreachable(), id="unreachable", classes="banner")
        notice.display = bool(self._unreachable())
        yield notice
        yield Static(_("Thank you. The doctor will call you."), classes="prompt big")
        yield Static(
            _(
                "What happens next:\n"
                "1. The doctor appears on the screen and can see and hear you.\n"
                "2. They may ask you to take a measurement: the screen shows how.\n"
                "3. At the end, your prescription is printed here."
            ),
            classes="prompt",
        )
        yield Static(_("Usual wait: less than 15 minutes."), classes="hint")
        yield Static(self._waited(), id="waited", classes="hint")
        with Horizontal(classes="bottom"):
            yield Button(_("I want to leave"), id="leave", variant="error", classes="nav")

    def _unreachable(self) -> str:
        if self.kiosk.doctors_reachable:
            return ""
        return _(
            "The doctor cannot be reached right now: the cabin's connection is down. "
            "It often comes back within a few minutes: you can wait here, or leave."
        )

    def on_doctors_reachable(self) -> None:
        notice = self.query_one("#unreachable", Static)
        notice.update(self._unreachable())
        notice.display = bool(self._unreachable())
        if not self.kiosk.doctors_reachable:
            self.kiosk.speak(self._unreachable())

    def _waited(self) -> str:
        if not self.since:
            self.since = self.kiosk.monotonic()
        minutes = int((self.kiosk.monotonic() - self.since) // 60)
        if minutes < 1:
            return ""
        return _("You have been waiting for {n} min.").format(n=minutes)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(WAIT_REFRESH_S, self._tick)

    def _tick(self) -> None:
        self.query_one("#waited", Static).update(self._waited())

    @on(Button.Pressed, "#leave")
    async def leave(self) -> None:
        if await self.call("/api/ui/checkin/abandon") is not None:
            await self.kiosk.show(GoodbyeScreen())


class ConsultationScreen(KioskScreen):
    TITLE_TEXT = N_("Consultation")

    def __init__(self) -> None:
        super().__init__()
        self.instruction = ""
        # The last measurement as the stream sent it: written out in compose, so a
        # language switch rewrites its figure (37,8 / 37.8) and caption too.
        self.reading: dict[str, Any] | None = None
        self.measuring = False  # an instrument is measuring, no value yet
        self.call_note = ""
        self.chat: list[tuple[str, str]] = []
        self.typing: str | None = None  # None: keyboard hidden

    def body(self) -> ComposeResult:
        yield Static(self.call_note, id="call-note", classes="banner")
        with Horizontal(classes="consult"):
            with Vertical(classes="consult-main"):
                yield Static(_("The doctor says:"), classes="label")
                yield Static(
                    self.instruction or _("Look at the screen and talk to the doctor."),
                    id="instruction",
                    classes="instruction",
                )
                big, caption = self.measurement or ("", "")
                yield Digits(big, id="measure-value", classes="measure")
                yield Static(caption, id="measure-caption", classes="label")
            with Vertical(classes="consult-chat"):
                yield Static(_("Messages"), classes="label")
                yield Static(self._chat_text(), id="chat", classes="chat")
        if self.typing is not None:
            yield Static(self.typing + "▏", id="typed", classes="typed")
            yield AzertyKeyboard()
            with Horizontal(classes="bottom"):
                yield Button(_("Cancel"), id="chat-cancel", classes="nav")
                yield Button(_("Send"), id="chat-send", variant="success", classes="nav")
        else:
            with Horizontal(classes="choices"):
                for i, text in enumerate(QUICK_MESSAGES):
                    yield Button(_(text), id=f"quick-{i}", name=text, classes="quick")
                yield Button(_("Write"), id="chat-open", classes="quick")

    def _chat_text(self) -> str:
        names = {"doctor": _("Doctor"), "patient": _("You")}
        lines = [f"{names.get(who, who)}: {text}" for who, text in self.chat[-CHAT_LINES_SHOWN:]]
        return "\n".join(lines)

    def on_cabin_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "PatientInstruction":
            self.instruction = str(event.get("text", ""))
            self._update("#instruction", self.instruction)
            self.kiosk.speak(self.instruction)
        elif kind == "MeasurementTaken":
            self.reading = event.get("measurement") or {}
            self.measuring = False
            self._show_measurement()
        elif kind == "InstrumentStateChanged" and event.get("state") == "measuring":
            self.measuring = True
            self._show_measurement()
        elif kind == "CallStateChanged":
            call_notes = {
                "reconnecting": _("The doctor is reconnecting… please stay here."),
                "connecting": _("Connecting to the doctor…"),
            }
            self.call_note = call_notes.get(str(event.get("state")), "")
            self._update("#call-note", self.call_note)
        elif kind == "ChatMessage":
            self.chat.append((str(event.get("sender")), str(event.get("text", ""))))
            self._update("#chat", self._chat_text())

    @property
    def measurement(self) -> tuple[str, str] | None:
        """(big value, caption) in the screen's language; None before any measurement."""
        if self.measuring:
            return "", _("Measuring, please keep still…")
        if self.reading is None:
            return None
        big, caption = measurement_lines(self.reading)
        if self.reading.get("intermediate"):
            caption = _("Measuring, please keep still…")
        flags = self.reading.get("status") or []
        lines = [caption, *(_(STATUS_NOTES[f]) for f in flags if f in STATUS_NOTES)]
        return big, "\n".join(lines)

    def _show_measurement(self) -> None:
        big, caption = self.measurement or ("", "")
        for digits in self.query("#measure-value").results(Digits):
            digits.update(big)
        self._update("#measure-caption", caption)

    def _update(self, selector: str, text: str) -> None:
        # An event can arrive between the switch to this screen and its compose: the
        # attributes keep it and compose shows it, so a missing widget is fine here.
        for widget in self.query(selector).results(Static):
            widget.update(text)

    @on(Button.Pressed, ".quick")
    async def quick(self, event: Button.Pressed) -> None:
        if event.button.id == "chat-open":
            self.typing = ""
            await self.recompose()
        elif event.button.name:
            await self.call("/api/ui/chat", {"text": _(event.button.name)})

    @on(KeyPressed)
    def typed(self, event: KeyPressed) -> None:
        if self.typing is not None:
            self.typing = apply_key(self.typing, event.key, CHAT_MAX)
            self.query_one("#typed", Static).update(self.typing + "▏")

    @on(Button.Pressed, "#chat-send")
    async def send(self) -> None:
        text = (self.typing or "").strip()
        if text and await self.call("/api/ui/chat", {"text": text}) is None:
            return
        self.typing = None
        await self.recompose()

    @on(Button.Pressed, "#chat-cancel")
    async def close_keyboard(self) -> None:
        self.typing = None
        await self.recompose()


class CheckoutScreen(KioskScreen):
    TITLE_TEXT = N_("End of the consultation")
    SPOKEN = N_("The consultation is over. Your prescription is being printed.")
    # Nobody touching the checkout screen for a while: the patient has gone.
    INACTIVITY = True
    INACTIVITY_FACTOR = 3.0

    def __init__(self) -> None:
        super().__init__()
        self.print_state = "stored"
        self.print_message = ""
        self.document_id: str | None = None
        # The printed copy of the report (kiosk/record): not_offered, offered (the
        # question shows), declined, asked (then copy_state is its print's state).
        self.copy = "not_offered"
        self.copy_state = "stored"

    def body(self) -> ComposeResult:
        yield Static(_("The consultation is over."), classes="prompt big")
        yield Static(self._print_text(), id="print-status", classes="prompt")
        if self.copy == "offered":
            yield Static(_("Would you like a printed report?"), id="copy-question",
                         classes="prompt")  # fmt: skip
        elif self.copy == "asked":
            yield Static(self._copy_text(), id="copy-status", classes="prompt")
        with Horizontal(classes="bottom"):
            if self.copy == "offered":
                yield Button(_("Yes, print it"), id="copy-yes", variant="primary", classes="nav")
                yield Button(_("No, thank you"), id="copy-no", classes="nav")
            if self.print_state == "failed" and self.document_id:
                yield Button(_("Print again"), id="reprint", variant="warning", classes="nav")
            yield Button(_("I am leaving"), id="leave", variant="success", classes="nav")

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._load_documents())
        self._ask_copy()
        self.set_interval(COPY_POLL_S, self._ask_copy)

    def _ask_copy(self) -> None:
        if self.copy == "not_offered":
            # The copy is optional: a daemon without it never breaks this screen.
            self.run_worker(self._load_copy(), group="copy", exclusive=True, exit_on_error=False)

    async def _load_copy(self) -> None:
        """Whether the daemon has a signed report to offer (it says when to ask)."""
        try:
            answer = await self.kiosk.api.get("/api/ui/record/copy")
        except ApiError:
            return
        if self.copy == "not_offered" and answer.get("ask") is True:
            self.copy = "offered"
            await self.recompose()
            self.kiosk.speak(_("Would you like a printed report?"))

    def _copy_text(self) -> str:
        texts = {
            "completed": _("Your report is printed: take it from the tray under the screen."),
            "failed": _("The report could not be printed: the doctor can send it to you."),
        }
        return texts.get(self.copy_state, _("Your report is being printed…"))

    @on(Button.Pressed, "#copy-yes")
    async def copy_yes(self) -> None:
        if await self.call("/api/ui/record/copy", {"print": True}) is not None:
            self.copy = "asked"
            await self.recompose()

    @on(Button.Pressed, "#copy-no")
    async def copy_no(self) -> None:
        if await self.call("/api/ui/record/copy", {"print": False}) is not None:
            self.copy = "declined"
            await self.recompose()

    async def _load_documents(self) -> None:
        """The prescription may have printed during the call, before this screen showed:
        ask the daemon for this consultation's documents (an event, if any, is newer)."""
        try:
            answer = await self.kiosk.api.get("/api/print/documents")
        except ApiError:
            return
        docs = answer.get("value")  # the client wraps a JSON list so
        if self.document_id is not None or not isinstance(docs, list):
            return
        prescriptions = [d for d in docs if isinstance(d, dict) and d.get("kind") == "prescription"]
        if prescriptions:
            self.print_state = str(prescriptions[-1].get("state"))
            self.document_id = str(prescriptions[-1].get("id"))
        else:
            self.print_state = "none"
        # Only a failed print adds a button; otherwise the text alone changes (no
        # recompose under the patient's finger).
        if self.print_state == "failed":
            await self.recompose()
        else:
            for status in self.query("#print-status").results(Static):
                status.update(self._print_text())

    def _print_text(self) -> str:
        texts = {
            "none": _("The doctor has not sent a prescription to print here."),
            "stored": _("Your prescription is ready to be printed."),
            "queued": _("Your prescription will be printed in a moment…"),
            "printing": _("Printing your prescription…"),
            "retrying": _("The printer is slow, we are trying again…"),
            "completed": _("Your prescription is printed: take it from the tray under the screen."),
            "failed": _(
                "The printing failed. Your prescription is kept safe: touch Print again, "
                "or ask the doctor to send it to your pharmacy."
            ),
        }
        text = texts.get(self.print_state, "")
        if self.print_state == "failed" and self.print_message:
            text = f"{self.print_message}\n{text}"
        return text

    def on_cabin_event(self, event: dict[str, Any]) -> None:
        if event.get("type") != "PrintJobUpdated":
            return
        if event.get("document") == "report":
            self._copy_printed(str(event.get("state")))
            return
        if event.get("document") != "prescription":
            return
        previous = self.print_state
        self.print_state = str(event.get("state"))
        self.document_id = str(event.get("document_id"))
        self.print_message = str(event.get("message_patient", ""))
        if (previous == "failed") != (self.print_state == "failed"):
            self.refresh(recompose=True)
        else:
            self.query_one("#print-status", Static).update(self._print_text())
        if self.print_state in ("completed", "failed"):
            self.kiosk.speak(self._print_text())

    def _copy_printed(self, state: str) -> None:
        self.copy_state = state
        for status in self.query("#copy-status").results(Static):
            status.update(self._copy_text())
        if state in ("completed", "failed"):
            self.kiosk.speak(self._copy_text())

    @on(Button.Pressed, "#reprint")
    async def reprint(self) -> None:
        if (
            self.document_id
            and await self.call(f"/api/print/{self.document_id}/reprint") is not None
        ):
            self.print_state = "queued"
            await self.recompose()

    @on(Button.Pressed, "#leave")
    async def leave(self) -> None:
        if await self.call("/api/ui/leave") is not None:
            await self.kiosk.show(GoodbyeScreen())

    async def on_inactive(self) -> None:
        await self.leave()


class GoodbyeScreen(KioskScreen):
    TITLE_TEXT = N_("Goodbye")
    SPOKEN = N_("Goodbye. Take care. Don't forget your documents.")

    def body(self) -> ComposeResult:
        yield Static(_("Goodbye, take care."), classes="prompt big")
        yield Static(_("Don't forget your prescription and your belongings."), classes="prompt")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_timer(self.kiosk.goodbye_s, self._done)

    async def _done(self) -> None:
        await self.kiosk.welcome()

    def refresh_cabin(self) -> None:
        """The cabin going to cleaning does not cut the goodbye short."""
