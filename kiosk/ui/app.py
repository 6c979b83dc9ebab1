"""The touchscreen app: follows the cabin's state from the daemon's events and shows the
screen that goes with it. Which screen is decided here, in one place (``route``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import App
from textual.widgets import Button

from kiosk.ui import i18n
from kiosk.ui.client import ApiError, CabinApi
from kiosk.ui.screens.base import KioskScreen, error_text
from kiosk.ui.speech import Speaker

log = logging.getLogger(__name__)

# Reconnection to the daemon's event stream: quick first, capped so a daemon that is
# restarting (systemd restarts it within seconds) is found again soon.
RECONNECT_FIRST_S = 0.2
RECONNECT_MAX_S = 5.0
# How often the inactivity rule is checked; a fraction of the shortest timeout in use.
IDLE_CHECK_S = 0.2
# The goodbye screen stays this long, then the welcome screen returns for the next one.
GOODBYE_S = 15.0

FREE_STATES = frozenset({"idle", "closed", "awaiting_disinfection", "cleaning", "out_of_service"})


class KioskApp(App[None]):
    CSS_PATH = "styles.tcss"
    # A patient's screen: no command palette (a keyboard plugged in must not open one).
    ENABLE_COMMAND_PALETTE = False
    TITLE = "Cabine de téléconsultation"

    def __init__(
        self,
        api: CabinApi,
        *,
        inactivity_s: float = 90.0,
        goodbye_s: float = GOODBYE_S,
        speaker: Speaker | None = None,
        listen: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        notice: str = "",
    ) -> None:
        super().__init__()
        # One line under every screen (the demo shows the doctor console's address).
        self.notice = notice
        self.api = api
        self.inactivity_s = inactivity_s
        self.goodbye_s = goodbye_s
        self.speaker = speaker or Speaker()
        self.voice_default = self.speaker.enabled
        self.listen = listen
        self.monotonic = monotonic
        self.large_text = False
        self.connected = False
        self.cabin: dict[str, Any] = {"state": "idle", "site": {}}
        self.last_touch = monotonic()
        i18n.set_language(i18n.DEFAULT_LANGUAGE)

    async def on_mount(self) -> None:
        from kiosk.ui.screens.welcome import WelcomeScreen

        await self.push_screen(WelcomeScreen())
        if self.listen:
            self.run_worker(self._listen(), name="daemon-events", exclusive=True)
        self.set_interval(IDLE_CHECK_S, self._check_inactivity)

    # -- the daemon ------------------------------------------------------------------

    async def _listen(self) -> None:
        delay = RECONNECT_FIRST_S
        while True:
            async for event in self.api.events():
                delay = RECONNECT_FIRST_S
                await self.handle_event(event)
            if self.connected:
                self.connected = False
                self._tell_screen(error_text(ApiError(0, "unreachable", "", {})))
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "Hello":
            self.connected = True
            self._tell_screen("")
            await self.refresh_state()
        elif kind == "StateChanged":
            await self.refresh_state()
        elif kind == "DoctorsReachable":
            self.cabin["doctors_reachable"] = bool(event.get("reachable"))
            screen = self.screen
            if isinstance(screen, KioskScreen):
                screen.on_doctors_reachable()
        else:
            screen = self.screen
            if isinstance(screen, KioskScreen):
                screen.on_cabin_event(event)

    def _tell_screen(self, text: str) -> None:
        screen = self.screen
        if isinstance(screen, KioskScreen) and screen.is_mounted:
            screen.show_error(text)

    async def refresh_state(self) -> None:
        try:
            self.cabin = await self.api.get("/api/ui/state")
        except ApiError:
            return  # the event stream will reconnect and ask again
        await self.route()

    async def route(self) -> None:
        """Shows the screen for the cabin's current state (keeps the current one when it
        already fits, so nothing typed is lost on a redundant event)."""
        from kiosk.ui.screens import checkin, consultation, pin, welcome

        state = str(self.cabin.get("state"))
        screen = self.screen
        if state in FREE_STATES:
            if isinstance(screen, pin.StaffScreen | consultation.GoodbyeScreen):
                screen.refresh_cabin()
                return
            leaving = isinstance(screen, consultation.CheckoutScreen | consultation.WaitingScreen)
            if leaving and state == "awaiting_disinfection":
                await self.show(consultation.GoodbyeScreen())
            elif isinstance(screen, welcome.WelcomeScreen):
                screen.refresh_cabin()
            else:
                await self.show(welcome.WelcomeScreen())
        elif state == "check_in":
            if not isinstance(screen, checkin.CheckinScreen):
                await self.show(checkin.screen_for_step(self.cabin.get("step")))
        elif state == "waiting":
            if not isinstance(screen, consultation.WaitingScreen):
                await self.show(consultation.WaitingScreen())
        elif state == "in_consultation":
            if not isinstance(screen, consultation.ConsultationScreen):
                await self.show(consultation.ConsultationScreen())
        elif state == "checkout" and not isinstance(screen, consultation.CheckoutScreen):
            await self.show(consultation.CheckoutScreen())

    async def show(self, screen: KioskScreen) -> None:
        """Replaces the screen: the previous one (and what was typed in it) is dropped."""
        from kiosk.ui.screens.welcome import WelcomeScreen

        self.last_touch = self.monotonic()
        if isinstance(screen, WelcomeScreen):
            # The next patient starts in French, normal text, voice as configured.
            i18n.set_language(i18n.DEFAULT_LANGUAGE)
            self.large_text = False
            self.speaker.enabled = self.voice_default
        # Not awaited: the switch runs next on the app's queue. Awaiting it from a
        # handler of the screen being replaced would wait for that very handler.
        self.switch_screen(screen)

    async def welcome(self) -> None:
        from kiosk.ui.screens.welcome import WelcomeScreen

        # On failure: the last known state; the event stream brings the next one.
        with contextlib.suppress(ApiError):
            self.cabin = await self.api.get("/api/ui/state")
        if isinstance(self.screen, WelcomeScreen):
            self.screen.refresh_cabin()
        else:
            await self.show(WelcomeScreen())

    # -- touch, language, larger text, voice ----------------------------------------

    @on(Button.Pressed)
    async def _touched(self, event: Button.Pressed) -> None:
        self.last_touch = self.monotonic()
        button_id = event.button.id
        if button_id == "toggle-language":
            i18n.set_language("en" if i18n.language() == "fr" else "fr")
            await self.screen.recompose()
        elif button_id == "toggle-large":
            self.large_text = not self.large_text
            self.screen.set_class(self.large_text, "large")
        elif button_id == "toggle-voice":
            self.speaker.enabled = not self.speaker.enabled and self.speaker.available
            screen = self.screen
            if isinstance(screen, KioskScreen) and screen.SPOKEN:
                self.speak(i18n._(screen.SPOKEN))

    @property
    def doctors_reachable(self) -> bool:
        # Until the daemon has said otherwise: no warning flashes on a screen at start.
        return bool(self.cabin.get("doctors_reachable", True))

    def speak(self, text: str) -> None:
        if self.speaker.enabled:
            self.run_worker(self.speaker.say(text, i18n.language()), group="speech")

    async def _check_inactivity(self) -> None:
        if not self.screen_stack:  # the app is shutting down: its screens are gone
            return
        screen = self.screen
        if not isinstance(screen, KioskScreen) or not screen.INACTIVITY:
            return
        if self.monotonic() - self.last_touch < self.inactivity_s * screen.INACTIVITY_FACTOR:
            return
        self.last_touch = self.monotonic()
        await screen.on_inactive()

    async def on_unmount(self) -> None:
        await self.speaker.stop()

    def _fatal_error(self) -> None:
        """Textual's default prints a traceback with local variables, which may hold what
        the patient typed: log the error's class only and exit; the runner starts a
        fresh app (a fresh welcome screen)."""
        error = self._exception
        log.error("touchscreen UI failed: %s", type(error).__name__ if error else "unknown")
        self._close_messages_no_wait()
