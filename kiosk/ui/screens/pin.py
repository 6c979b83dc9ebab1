"""A PIN on the numeric keypad, shown as dots."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.ui.i18n import _
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import Keypad, KeyPressed, apply_key

PIN_MAX = 12


class StaffScreen(KioskScreen):
    """Screens for the referent and the technician (not the patient's)."""

    def refresh_cabin(self) -> None:
        """The cabin's state changed while staff use the screen: nothing by default."""


class PinScreen(StaffScreen):
    INACTIVITY = True
    PROMPT = ""

    def __init__(self) -> None:
        super().__init__()
        self.pin = ""

    def body(self) -> ComposeResult:
        yield Static(_(self.PROMPT), classes="prompt big")
        yield Static(self._shown(), id="typed", classes="typed")
        yield Keypad()
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            yield Button(_("Confirm"), id="next", variant="success", classes="nav")

    def _shown(self) -> str:
        return " ".join("●" * len(self.pin)) or " "

    @on(KeyPressed)
    def typed(self, event: KeyPressed) -> None:
        self.pin = apply_key(self.pin, event.key, PIN_MAX)
        self.query_one("#typed", Static).update(self._shown())

    @on(Button.Pressed, "#cancel")
    async def cancel(self) -> None:
        await self.kiosk.welcome()

    @on(Button.Pressed, "#next")
    async def confirm(self) -> None:
        pin, self.pin = self.pin, ""
        self.query_one("#typed", Static).update(self._shown())
        if len(pin) < 4:
            self.show_error(_("The code has at least 4 digits."))
            return
        await self.login(pin)

    async def login(self, pin: str) -> None:
        raise NotImplementedError
