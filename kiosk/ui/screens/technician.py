"""The technician's screen: instrument and printer states from /api/status."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.ui.client import ApiError
from kiosk.ui.i18n import N_, _
from kiosk.ui.screens.pin import PinScreen, StaffScreen


class TechnicianPinScreen(PinScreen):
    TITLE_TEXT = N_("Technician")
    PROMPT = N_("Technician code")

    async def login(self, pin: str) -> None:
        if await self.call("/api/ui/technician/login", {"pin": pin}) is not None:
            await self.kiosk.show(TechnicianScreen(pin))

    def on_refused(self, error: ApiError) -> None:
        super().on_refused(error)
        if error.code == "wrong_pin" and "attempts_left" in error.body:
            left = int(error.body["attempts_left"])
            self.show_error(_("Wrong code. Attempts left: {n}").format(n=left))


def status_lines(status: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(instrument lines, printer lines) from /api/status, whatever each part reports."""
    instruments = []
    for inst in status.get("instruments") or []:
        if isinstance(inst, dict):
            name = inst.get("name", "?")
            state = inst.get("state", "?")
            detail = inst.get("detail") or ""
            battery = inst.get("battery_percent")
            extra = f" · {battery} %" if battery is not None else ""
            instruments.append(f"{name}: {state}{extra} {detail}".rstrip())
    printer = status.get("printer")
    printer_lines = []
    if isinstance(printer, dict):
        printer_lines = [f"{k}: {v}" for k, v in printer.items() if not isinstance(v, dict | list)]
    elif printer is not None:
        printer_lines = [str(printer)]
    return instruments, printer_lines


class TechnicianScreen(StaffScreen):
    TITLE_TEXT = N_("Technician")
    INACTIVITY = True
    INACTIVITY_FACTOR = 5.0

    def __init__(self, pin: str) -> None:
        super().__init__()
        self.status: dict[str, Any] = {}
        # Kept while this screen is open: putting the cabin back in service asks for it.
        self._pin = pin

    def body(self) -> ComposeResult:
        instruments, printer = status_lines(self.status)
        yield Static(
            _("Cabin state: {state}").format(state=self.status.get("state", "?")), classes="prompt"
        )
        yield Static(_("Instruments"), classes="label")
        yield Static("\n".join(instruments) or _("No instrument configured."), id="instruments")
        yield Static(_("Printer"), classes="label")
        yield Static("\n".join(printer) or _("No printer information."), id="printer")
        with Horizontal(classes="bottom"):
            yield Button(_("Back"), id="back", classes="nav")
            if self.status.get("state") == "out_of_service":
                yield Button(_("Back in service"), id="clear", variant="warning", classes="nav")
            yield Button(_("Refresh"), id="refresh", variant="primary", classes="nav")

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self.reload())

    async def reload(self) -> None:
        try:
            self.status = await self.kiosk.api.get("/api/status")
        except ApiError as exc:
            self.on_refused(exc)
            return
        await self.recompose()

    @on(Button.Pressed, "#refresh")
    async def refresh_pressed(self) -> None:
        await self.reload()

    @on(Button.Pressed, "#clear")
    async def clear(self) -> None:
        if await self.call("/api/hygiene/clear", {"pin": self._pin}) is not None:
            await self.reload()

    @on(Button.Pressed, "#back")
    async def back(self) -> None:
        await self.kiosk.welcome()
