"""The optional details of check-in: the patient's sex, social security number (the INS
number: a NIR, 2A/2B for Corsica), birth place code and own GP, so that the record can
name them as the national identity does and reach their doctor. Every field can be left
empty, the whole step skipped: nothing here is required of a walk-in patient.

What a booking carried is shown first, to confirm in one touch. The daemon checks each
field (hub.shared.ins, the booking's checks): a refusal comes back on its field, in
French with its exact reason, in English with the field's plain-words hint. The GP's
secure mail address is not typed here (a patient seldom knows it): the booking gives it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.ui.client import ApiError
from kiosk.ui.i18n import N_, _, language
from kiosk.ui.screens.checkin import CheckinScreen, ConsentScreen
from kiosk.ui.widgets import AzertyKeyboard, KeyButton, Keypad, KeyPressed, apply_key

INS_LENGTH = 15  # 13 characters and a two-digit key
PLACE_LENGTH = 5  # the INSEE code of the commune (or 99 + country)
GP_NAME_MAX = 60

# The fields in the order they are asked.
FIELDS: tuple[str, ...] = ("sex", "ins_number", "birth_place", "gp_name")
HINTS = {
    "sex": N_("Please choose one of the answers."),
    "ins_number": N_("This number is not valid. Check it on your carte Vitale."),
    "birth_place": N_("This code is not valid. Leave it empty if you do not know it."),
    "gp_name": N_("Please check your doctor's name."),
}


class CorsicaKeys(Horizontal):
    """A and B, for the Corsican départements (2A, 2B) in a NIR or a place code."""

    def compose(self) -> ComposeResult:
        for letter in "AB":
            yield KeyButton(letter, name=letter, id=f"key-{letter}", classes="key")

    @on(Button.Pressed, ".key")
    def _key(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(KeyPressed(event.button.name or ""))


def grouped_ins(number: str) -> str:
    """As on the carte Vitale: 2 48 03 75 056 123 45."""
    cuts = (1, 3, 5, 7, 10, 13, 15)
    parts, start = [], 0
    for cut in cuts:
        if start < len(number):
            parts.append(number[start:cut])
        start = cut
    return " ".join(parts)


class DetailsScreen(CheckinScreen):
    TITLE_TEXT = N_("To send your report to your doctor")
    SPOKEN = N_("These details are optional. They help send your report to your own doctor.")
    PHASES: ClassVar[tuple[str, ...]] = ("intro", *FIELDS)

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {name: "" for name in FIELDS}
        self.booked: dict[str, Any] = {}
        self.phase = "intro"

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._load_booked())

    async def _load_booked(self) -> None:
        try:
            self.booked = await self.kiosk.api.get("/api/ui/checkin/details")
        except ApiError as exc:
            self.on_refused(exc)
            return
        for name in FIELDS:  # what was typed already stays
            self.values[name] = self.values[name] or self.booked.get(name) or ""
        if self.booked.get("from_booking"):
            await self.recompose()

    def body(self) -> ComposeResult:
        if self.phase == "intro":
            yield from self._intro()
        elif self.phase == "sex":
            yield Static(_("You are"), classes="prompt big")
            with Horizontal(classes="choices"):
                for value, label in (("F", _("A woman")), ("M", _("A man")), ("I", _("Other"))):
                    chosen = self.values["sex"] == value
                    yield Button(
                        label,
                        id=f"sex-{value}",
                        name=value,
                        variant="success" if chosen else "default",
                        classes="big sex",
                    )
            yield from self._nav()
        else:
            prompts = {
                "ins_number": _("Your social security number (15 digits, on your carte Vitale)"),
                "birth_place": _("The code of your place of birth (5 characters), if you know it"),
                "gp_name": _("Your own doctor's name (médecin traitant)"),
            }
            yield Static(prompts[self.phase], classes="prompt big")
            yield Static(self._shown(), id="typed", classes="typed")
            if self.phase == "gp_name":
                yield AzertyKeyboard()
            else:
                yield Keypad()
                yield CorsicaKeys(classes="corsica")
            yield from self._nav()

    def _intro(self) -> ComposeResult:
        yield Static(
            _(
                "If you wish, give your social security number and your own doctor's name: "
                "your report can then go to your doctor. You can skip this."
            ),
            classes="prompt big",
        )
        if self.booked.get("from_booking"):
            yield Static(_("Your appointment gives:"), classes="prompt")
            yield Static(self._summary(), id="booked", classes="booked")
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            yield Button(_("Skip"), id="skip", classes="nav")
            if self.booked.get("from_booking"):
                yield Button(_("Change"), id="fill", classes="nav")
                yield Button(_("That is right"), id="confirm", variant="success", classes="nav")
            else:
                yield Button(_("Fill in"), id="fill", variant="success", classes="nav")

    def _summary(self) -> str:
        lines = []
        if self.values["ins_number"]:
            lines.append(grouped_ins(self.values["ins_number"]))
        if self.values["birth_place"]:
            lines.append(_("Place of birth: {code}").format(code=self.values["birth_place"]))
        if self.values["gp_name"]:
            lines.append(_("Your doctor: {name}").format(name=self.values["gp_name"]))
        return "\n".join(lines) or "—"

    def _nav(self) -> ComposeResult:
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            yield Button(_("Back"), id="back", classes="nav")
            last = self.phase == FIELDS[-1]
            yield Button(_("Send") if last else _("Continue"), id="next", variant="success",
                         classes="nav")  # fmt: skip

    def _shown(self) -> str:
        value = self.values[self.phase]
        if self.phase == "ins_number":
            return grouped_ins(value) + "▏"
        return value + "▏"

    async def _go(self, phase: str) -> None:
        self.phase = phase
        self.show_error("")
        await self.recompose()

    @on(KeyPressed)
    def typed(self, event: KeyPressed) -> None:
        if self.phase not in ("ins_number", "birth_place", "gp_name"):
            return
        limit = {"ins_number": INS_LENGTH, "birth_place": PLACE_LENGTH}.get(self.phase, GP_NAME_MAX)
        self.values[self.phase] = apply_key(self.values[self.phase], event.key, limit)
        self.query_one("#typed", Static).update(self._shown())

    @on(Button.Pressed, ".sex")
    async def choose_sex(self, event: Button.Pressed) -> None:
        self.values["sex"] = event.button.name or ""
        await self._go("ins_number")

    @on(Button.Pressed, "#skip")
    async def skip(self) -> None:
        # The daemon takes the consent from the details step: nothing given is nothing kept.
        await self.kiosk.show(ConsentScreen())

    @on(Button.Pressed, "#fill")
    async def fill(self) -> None:
        await self._go(FIELDS[0])

    @on(Button.Pressed, "#confirm")
    async def confirm(self) -> None:
        await self.send()

    @on(Button.Pressed, "#back")
    async def back(self) -> None:
        await self._go(self.PHASES[self.PHASES.index(self.phase) - 1])

    @on(Button.Pressed, "#next")
    async def next_field(self) -> None:
        if self.phase == FIELDS[-1]:
            await self.send()
        else:
            await self._go(self.PHASES[self.PHASES.index(self.phase) + 1])

    def details(self) -> dict[str, Any]:
        body: dict[str, Any] = {k: (v.strip() or None) for k, v in self.values.items()}
        if self.booked.get("gp_mssante") and body["gp_name"] == self.booked.get("gp_name"):
            body["gp_mssante"] = self.booked["gp_mssante"]  # the booking's doctor still
        return body

    async def send(self) -> None:
        if await self.call("/api/ui/checkin/details", self.details()) is not None:
            await self.kiosk.show(ConsentScreen())

    def on_refused(self, error: ApiError) -> None:
        field = error.body.get("field") if error.code == "invalid_details" else None
        if not isinstance(field, str) or field not in FIELDS:
            super().on_refused(error)
            return
        exact = error.message[:1].upper() + error.message[1:]
        text = exact if language() == "fr" and exact else _(HINTS[field])
        self.run_worker(self._refused_on(field, text))

    async def _refused_on(self, field: str, text: str) -> None:
        await self._go(field)
        self.show_error(text)
