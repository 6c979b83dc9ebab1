"""The welcome screen: start a check-in, or why the cabin cannot take a patient now."""

from __future__ import annotations

from datetime import date, datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from hub.shared import l10n
from kiosk.ui.i18n import N_, _, language
from kiosk.ui.screens.base import KioskScreen


def hours_lines(hours: dict[str, list[str]]) -> list[str]:
    """ "lundi 23 novembre : 09:00-12:00, 13:30-17:00" for each of the next seven days."""
    lines = []
    for day_iso, ranges in hours.items():
        day = l10n.weekday_date(date.fromisoformat(day_iso), language())
        text = ", ".join(r.replace("-", " – ") for r in ranges) if ranges else _("closed")
        lines.append(f"{day} : {text}" if language() == "fr" else f"{day}: {text}")
    return lines


def next_opening(iso: str | None) -> str:
    if not iso:
        return ""
    when = datetime.fromisoformat(iso)
    day = l10n.weekday_date(when.date(), language())
    at = "à" if language() == "fr" else "at"
    return _("Next opening: {when}").format(when=f"{day} {at} {when:%H:%M}")


class WelcomeScreen(KioskScreen):
    TITLE_TEXT = N_("Welcome")
    SPOKEN = N_("Welcome. Touch the green button to start.")

    def body(self) -> ComposeResult:
        cabin = self.kiosk.cabin
        state = str(cabin.get("state"))
        site = cabin.get("site") or {}
        yield Static(str(site.get("name", "")), classes="site-name")
        if state == "idle":
            yield Static(_("See a general practitioner by video, here, now."), classes="prompt big")
            with Horizontal(classes="actions"):
                yield Button(_("Start"), id="start", variant="success", classes="big")
            if site.get("booking_hint"):
                yield Static(str(site["booking_hint"]), classes="hint")
            if not self.kiosk.doctors_reachable:
                yield Static(
                    _("No doctor can be reached right now: the cabin's connection is down."),
                    classes="banner",
                )
        elif state == "closed":
            yield Static(_("The cabin is closed."), classes="prompt big")
            yield Static(next_opening(cabin.get("next_change")), classes="prompt")
        elif state == "out_of_service":
            yield Static(
                _("The cabin is out of service. A technician has been told."), classes="prompt big"
            )
        else:
            yield Static(_("The cabin is being cleaned."), classes="prompt big")
            yield Static(
                _("It will be ready for you in a few minutes. Thank you for waiting."),
                classes="prompt",
            )
        lines = hours_lines(cabin.get("hours") or {})
        if lines:
            yield Static(_("Opening hours"), classes="label")
            yield Static("\n".join(lines), classes="hours")
        with Horizontal(classes="staff"):
            if state in ("awaiting_disinfection", "cleaning", "out_of_service"):
                yield Button(_("Hygiene referent"), id="referent", classes="staff-button")
            yield Button(_("Technician"), id="technician", classes="staff-button")

    def refresh_cabin(self) -> None:
        self.refresh(recompose=True)

    def on_doctors_reachable(self) -> None:
        self.refresh_cabin()

    @on(Button.Pressed, "#start")
    async def start(self) -> None:
        if await self.call("/api/ui/checkin/start") is not None:
            await self.kiosk.refresh_state()

    @on(Button.Pressed, "#referent")
    async def referent(self) -> None:
        from kiosk.ui.screens.referent import ReferentPinScreen

        await self.kiosk.show(ReferentPinScreen())

    @on(Button.Pressed, "#technician")
    async def technician(self) -> None:
        from kiosk.ui.screens.technician import TechnicianPinScreen

        await self.kiosk.show(TechnicianPinScreen())
