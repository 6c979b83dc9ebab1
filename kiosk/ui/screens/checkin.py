"""Check-in: appointment code, identity, the age rule, consent, questionnaire.

Each screen keeps what was typed in its own attributes (so a language switch redraws
it) and nowhere else: leaving the screen drops it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

from kiosk.ui.client import ApiError
from kiosk.ui.i18n import N_, _
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import AzertyKeyboard, Keypad, KeyPressed, apply_key

CODE_LENGTH = 6
NAME_MAX = 60


class CheckinScreen(KioskScreen):
    INACTIVITY = True

    def bottom(self, next_label: str | None = None) -> ComposeResult:
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            if next_label is not None:
                yield Button(next_label, id="next", variant="success", classes="nav")

    @on(Button.Pressed, "#cancel")
    async def cancel(self) -> None:
        await self.call("/api/ui/checkin/abandon")
        await self.kiosk.welcome()


def details_screen() -> CheckinScreen:
    from kiosk.ui.screens.details import DetailsScreen  # it builds on this module

    return DetailsScreen()


def screen_for_step(step: object) -> CheckinScreen:
    if step == "details":
        return details_screen()
    screens: dict[object, type[CheckinScreen]] = {
        "identity": IdentityScreen,
        "consent": ConsentScreen,
        "questionnaire": QuestionnaireScreen,
    }
    return screens.get(step, CodeScreen)()


class CodeScreen(CheckinScreen):
    TITLE_TEXT = N_("Your appointment")
    SPOKEN = N_("Type the six-digit code of your appointment.")

    def __init__(self) -> None:
        super().__init__()
        self.code = ""

    def body(self) -> ComposeResult:
        yield Static(_("Type the 6-digit code of your appointment."), classes="prompt big")
        yield Static(self._shown(), id="typed", classes="typed")
        yield Keypad()
        if self.kiosk.cabin.get("site", {}).get("walk_in"):
            yield Button(_("I have no appointment"), id="walk-in", classes="wide-button")
        yield from self.bottom(_("Confirm"))

    def _shown(self) -> str:
        return " ".join(self.code.ljust(CODE_LENGTH, "_"))

    @on(KeyPressed)
    def typed(self, event: KeyPressed) -> None:
        self.code = apply_key(self.code, event.key, CODE_LENGTH)
        self.query_one("#typed", Static).update(self._shown())

    @on(Button.Pressed, "#next")
    async def confirm(self) -> None:
        if len(self.code) != CODE_LENGTH:
            self.show_error(_("The code has 6 digits."))
            return
        if await self.call("/api/ui/checkin/code", {"code": self.code}) is not None:
            await self.kiosk.show(IdentityScreen())
        else:
            self.code = ""
            self.query_one("#typed", Static).update(self._shown())

    @on(Button.Pressed, "#walk-in")
    async def walk_in(self) -> None:
        if await self.call("/api/ui/checkin/walk-in") is not None:
            await self.kiosk.show(IdentityScreen())


class IdentityScreen(CheckinScreen):
    """Family name, given name, birth date: one at a time, each with its own keys."""

    TITLE_TEXT = N_("Who are you?")
    SPOKEN = N_("Type your family name with the keyboard on the screen.")
    FIELDS: ClassVar[tuple[str, ...]] = ("family_name", "given_name", "birth_date")

    def __init__(self) -> None:
        super().__init__()
        self.values = {name: "" for name in self.FIELDS}
        self.field = 0

    def body(self) -> ComposeResult:
        name = self.FIELDS[self.field]
        prompts = {
            "family_name": _("Your family name (as on your ID card)"),
            "given_name": _("Your first name"),
            "birth_date": _("Your date of birth (day, month, year)"),
        }
        yield Static(prompts[name], classes="prompt big")
        yield Static(self._shown(), id="typed", classes="typed")
        yield Keypad() if name == "birth_date" else AzertyKeyboard()
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            if self.field > 0:
                yield Button(_("Back"), id="back", classes="nav")
            yield Button(_("Continue"), id="next", variant="success", classes="nav")

    def _shown(self) -> str:
        name = self.FIELDS[self.field]
        value = self.values[name]
        if name == "birth_date":
            digits = value.ljust(8, "_")
            return f"{digits[0:2]} / {digits[2:4]} / {digits[4:8]}"
        return value + "▏"

    @on(KeyPressed)
    def typed(self, event: KeyPressed) -> None:
        name = self.FIELDS[self.field]
        limit = 8 if name == "birth_date" else NAME_MAX
        self.values[name] = apply_key(self.values[name], event.key, limit)
        self.query_one("#typed", Static).update(self._shown())

    @on(Button.Pressed, "#back")
    async def back(self) -> None:
        self.field = max(0, self.field - 1)
        await self.recompose()

    @on(Button.Pressed, "#next")
    async def next_field(self) -> None:
        name = self.FIELDS[self.field]
        value = self.values[name].strip()
        if name != "birth_date":
            if not value:
                self.show_error(_("Please type it, then touch Continue."))
                return
            self.field += 1
            self.show_error("")
            await self.recompose()
            return
        if len(value) != 8:
            self.show_error(_("Type the date as 8 digits: day, month, year. Example: 02031948."))
            return
        await self.submit(representative_present=False)

    def identity(self, representative_present: bool) -> dict[str, Any]:
        d = self.values["birth_date"]
        return {
            "family_name": self.values["family_name"].strip(),
            "given_name": self.values["given_name"].strip(),
            "birth_date": f"{d[4:8]}-{d[2:4]}-{d[0:2]}",
            "representative_present": representative_present,
        }

    async def submit(self, *, representative_present: bool) -> None:
        body = self.identity(representative_present)
        if await self.call("/api/ui/checkin/identity", body) is not None:
            await self.kiosk.show(details_screen())

    def on_refused(self, error: ApiError) -> None:
        if error.code == "needs_representative":
            self.run_worker(self.kiosk.show(RepresentativeScreen(self.identity(True))))
        elif error.code == "too_young":
            self.run_worker(self.kiosk.show(RefusedScreen("too_young")))
        elif error.code == "invalid":
            self.show_error(_("This date does not exist. Please check it."))
        else:
            super().on_refused(error)


class RepresentativeScreen(CheckinScreen):
    TITLE_TEXT = N_("Legal representative")
    SPOKEN = N_("You are under 18. Is your parent or legal guardian with you?")

    def __init__(self, identity: dict[str, Any]) -> None:
        super().__init__()
        self.identity = identity

    def body(self) -> ComposeResult:
        yield Static(
            _("You are under 18. A parent or legal guardian must be with you in the cabin."),
            classes="prompt big",
        )
        yield Static(_("Is your parent or legal guardian with you now?"), classes="prompt")
        with Horizontal(classes="choices"):
            yield Button(_("Yes, they are with me"), id="present", variant="success", classes="big")
            yield Button(_("No"), id="absent", variant="error", classes="big")

    @on(Button.Pressed, "#present")
    async def present(self) -> None:
        if await self.call("/api/ui/checkin/identity", self.identity) is not None:
            await self.kiosk.show(details_screen())

    @on(Button.Pressed, "#absent")
    async def absent(self) -> None:
        await self.kiosk.show(RefusedScreen("needs_representative"))


class RefusedScreen(CheckinScreen):
    """Why the cabin cannot receive this patient, and where to go instead."""

    TITLE_TEXT = N_("We cannot receive you here")

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def body(self) -> ComposeResult:
        texts = {
            "too_young": _("This cabin cannot receive children under 15."),
            "needs_representative": _(
                "You can come back with a parent or legal guardian: they must be with you."
            ),
            "consent_refused": _(
                "Without both agreements, the doctor cannot see you in this cabin."
            ),
        }
        yield Static(texts.get(self.reason, ""), classes="prompt big")
        yield Static(
            _(
                "You can see a doctor at a medical centre or call your pharmacist. "
                "In an emergency, call 15."
            ),
            classes="prompt",
        )
        with Horizontal(classes="bottom"):
            if self.reason == "consent_refused":
                yield Button(_("Back"), id="back", classes="nav")
            yield Button(_("Finish"), id="cancel", variant="error", classes="nav")

    @on(Button.Pressed, "#back")
    async def back(self) -> None:
        await self.kiosk.show(ConsentScreen())


class ConsentScreen(CheckinScreen):
    TITLE_TEXT = N_("Your agreement")
    SPOKEN = N_("Please read and accept the two agreements.")

    def __init__(self) -> None:
        super().__init__()
        self.agreed = {"teleconsultation": False, "data_processing": False}

    def body(self) -> ComposeResult:
        texts = {
            "teleconsultation": _(
                "I agree to be seen by a doctor by video. The doctor is far away and "
                "sees and hears me through the screen."
            ),
            "data_processing": _(
                "I agree that my answers and measurements are sent to the doctor and kept "
                "in my medical record. Nothing stays in the cabin."
            ),
        }
        for key, text in texts.items():
            mark = "☑" if self.agreed[key] else "☐"
            variant: ButtonVariant = "success" if self.agreed[key] else "default"
            yield Button(f"{mark}  {text}", id=f"agree-{key}", variant=variant, classes="consent")
        with Horizontal(classes="bottom"):
            yield Button(_("I refuse"), id="refuse", variant="error", classes="nav")
            yield Button(_("Continue"), id="next", variant="success", classes="nav")

    @on(Button.Pressed, "#agree-teleconsultation")
    async def agree_teleconsultation(self) -> None:
        self.agreed["teleconsultation"] = not self.agreed["teleconsultation"]
        await self.recompose()

    @on(Button.Pressed, "#agree-data_processing")
    async def agree_data(self) -> None:
        self.agreed["data_processing"] = not self.agreed["data_processing"]
        await self.recompose()

    @on(Button.Pressed, "#refuse")
    async def refuse(self) -> None:
        # The daemon records nothing and answers consent_refused (see on_refused).
        await self.call(
            "/api/ui/checkin/consent", {"teleconsultation": False, "data_processing": False}
        )

    def on_refused(self, error: ApiError) -> None:
        if error.code == "consent_refused":
            self.run_worker(self.kiosk.show(RefusedScreen("consent_refused")))
        else:
            super().on_refused(error)

    @on(Button.Pressed, "#next")
    async def submit(self) -> None:
        if not all(self.agreed.values()):
            self.show_error(_("Touch both agreements to tick them, or touch I refuse."))
            return
        if await self.call("/api/ui/checkin/consent", dict(self.agreed)) is not None:
            await self.kiosk.show(QuestionnaireScreen())


# Questionnaire choices: answer key -> message id. Stored as keys, shown translated.
QUESTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "reason": (
        N_("Why do you come today?"),
        {
            "fever_cough": N_("Fever, cough, cold"),
            "pain": N_("Pain"),
            "renewal": N_("Prescription renewal"),
            "other": N_("Something else"),
        },
    ),
    "allergies": (
        N_("Do you have allergies to medicines?"),
        {"yes": N_("Yes"), "no": N_("No"), "unknown": N_("I don't know")},
    ),
    "treatments": (
        N_("Do you take medicines every day?"),
        {"yes": N_("Yes"), "no": N_("No"), "unknown": N_("I don't know")},
    ),
    "pregnancy": (
        N_("Could you be pregnant?"),
        {"yes": N_("Yes"), "no": N_("No"), "not_applicable": N_("Not concerned")},
    ),
}


class QuestionnaireScreen(CheckinScreen):
    TITLE_TEXT = N_("A few questions")
    SPOKEN = N_("Answer the four questions, then touch Send.")

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, str] = {}

    def body(self) -> ComposeResult:
        for key, (question, choices) in QUESTIONS.items():
            yield Static(_(question), classes="question")
            with Horizontal(classes="choices"):
                for value, label in choices.items():
                    chosen = self.answers.get(key) == value
                    yield Button(
                        _(label),
                        id=f"q-{key}-{value}",
                        name=f"{key}:{value}",
                        variant=("primary" if chosen else "default"),
                        classes="choice",
                    )
        yield from self.bottom(_("Send"))

    @on(Button.Pressed, ".choice")
    async def choose(self, event: Button.Pressed) -> None:
        key, _sep, value = (event.button.name or "").partition(":")
        self.answers[key] = value
        await self.recompose()

    @on(Button.Pressed, "#next")
    async def send(self) -> None:
        if "reason" not in self.answers:
            self.show_error(_("Please choose why you come today."))
            return
        body = {
            "reason": self.answers["reason"],
            "allergies": self.answers.get("allergies", "unknown"),
            "treatments": self.answers.get("treatments", "unknown"),
            "pregnancy": self.answers.get("pregnancy", "not_applicable"),
        }
        if await self.call("/api/ui/checkin/questionnaire", body) is not None:
            await self.kiosk.refresh_state()
