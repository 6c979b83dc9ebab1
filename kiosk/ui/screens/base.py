"""What every screen shares: the top bar, one place for errors in plain words, calls to
the daemon that never show a trace, and the inactivity rule."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from kiosk.ui.client import ApiError
from kiosk.ui.i18n import _
from kiosk.ui.widgets import TopBar

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


def error_text(error: ApiError) -> str:
    """What the patient reads for a refused or failed request."""
    texts = {
        "unknown_code": _(
            "This code is unknown. Check the code in your appointment message and try again."
        ),
        "invalid": _("Some information is not valid. Please check it."),
        "identity_mismatch": _(
            "This does not match your appointment. Please check your name and birth date."
        ),
        "closed": _("The cabin is closed."),
        "locked": _("The cabin is not available right now."),
        "unreachable": _(
            "The cabin is not responding. Please wait a moment. "
            "If it goes on, call the number shown on the door."
        ),
        "wrong_pin": _("Wrong code."),
        "locked_out": _("Too many attempts. Try again later."),
        "no_technician": _("No technician code is set up for this cabin."),
    }
    return texts.get(error.code, _("Something went wrong. Please try again."))


class KioskScreen(Screen[None]):
    # Touch only: no keyboard focus ring on the first button.
    AUTO_FOCUS = None
    # Message id of the title shown in the top bar.
    TITLE_TEXT: ClassVar[str] = ""
    # Inactivity on this screen sends the patient back to the welcome screen.
    INACTIVITY: ClassVar[bool] = False
    # Checkout gives more time than check-in before acting.
    INACTIVITY_FACTOR: ClassVar[float] = 1.0
    # What spoken guidance says when the screen opens (message id).
    SPOKEN: ClassVar[str] = ""

    @property
    def kiosk(self) -> KioskApp:
        from kiosk.ui.app import KioskApp

        assert isinstance(self.app, KioskApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield TopBar(_(self.TITLE_TEXT))
        # Scrolls when larger text makes a screen taller than the display.
        with VerticalScroll(classes="body"):
            yield from self.body()
        yield Static("", id="error", classes="error")
        if self.kiosk.notice:
            yield Static(self.kiosk.notice, id="notice", classes="notice")

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.set_class(self.kiosk.large_text, "large")
        if self.SPOKEN:
            self.kiosk.speak(_(self.SPOKEN))

    def show_error(self, text: str) -> None:
        error = self.query_one("#error", Static)
        error.update(text)
        error.set_class(bool(text), "shown")

    async def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """POSTs to the daemon; on refusal shows the plain-words error and returns None."""
        try:
            result = await self.kiosk.api.post(path, body)
        except ApiError as exc:
            self.on_refused(exc)
            return None
        self.show_error("")
        return result

    def on_refused(self, error: ApiError) -> None:
        self.show_error(error_text(error))

    async def on_inactive(self) -> None:
        """Nobody touched the screen for too long: give up the check-in, wipe, welcome."""
        if self.kiosk.cabin.get("state") == "check_in":
            # On failure the daemon's own state wins; the welcome screen shows it.
            with contextlib.suppress(ApiError):
                await self.kiosk.api.post("/api/ui/checkin/abandon")
        await self.kiosk.welcome()

    def on_doctors_reachable(self) -> None:
        """The cabin's link to the doctors came or went (``kiosk.doctors_reachable``)."""

    def on_cabin_event(self, event: dict[str, Any]) -> None:
        """An event from the daemon (measurement, instruction, print progress...)."""
