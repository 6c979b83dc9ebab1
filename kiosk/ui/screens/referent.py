"""The hygiene referent's screens (issue 6): PIN, then the checklist of the session with
each step's contact-time countdown, then finish. The daemon's hygiene component decides
everything (lock, log, lifecycle); this only shows and asks."""

from __future__ import annotations

import math
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.ui.client import ApiError
from kiosk.ui.i18n import N_, _, catalogue, language
from kiosk.ui.screens.pin import PinScreen, StaffScreen

# Reasons a step cannot be done (message ids), sent as the anomaly's reason key.
ANOMALIES = {
    "no_consumable": N_("No consumables left"),
    "damaged": N_("Equipment damaged"),
    "other": N_("Other problem"),
}


class ReferentPinScreen(PinScreen):
    TITLE_TEXT = N_("Hygiene referent")
    PROMPT = N_("Your referent code")

    async def login(self, pin: str) -> None:
        if await self.call("/api/hygiene/login", {"pin": pin}) is not None:
            await self.kiosk.show(ChecklistScreen())

    def on_refused(self, error: ApiError) -> None:
        if error.status == 401 and "attempts_left" in error.body:
            left = int(error.body["attempts_left"])
            self.show_error(_("Wrong code. Attempts left: {n}").format(n=left))
        elif error.status == 423:
            self.show_error(_("Too many wrong codes: access is blocked for 15 minutes."))
        else:
            super().on_refused(error)


class ChecklistScreen(StaffScreen):
    TITLE_TEXT = N_("Disinfection checklist")

    def __init__(self) -> None:
        super().__init__()
        self.checklist: dict[str, Any] = {}
        self.fetched_at = 0.0
        self.choosing_anomaly: str | None = None

    def body(self) -> ComposeResult:
        steps = self.checklist.get("steps") or []
        referent = self.checklist.get("referent") or {}
        if isinstance(referent, dict) and referent.get("name"):
            yield Static(_("Referent: {name}").format(name=referent["name"]), classes="label")
        if self.choosing_anomaly is not None:
            yield Static(_("What is the problem?"), classes="prompt big")
            with Horizontal(classes="choices"):
                for key, label in ANOMALIES.items():
                    yield Button(_(label), id=f"anomaly-{key}", name=key, classes="anomaly big")
            with Horizontal(classes="bottom"):
                yield Button(_("Back"), id="anomaly-back", classes="nav")
            return
        with Vertical(classes="steps"):
            for step in steps:
                yield from self._step_row(step)
        all_done = bool(steps) and all(s.get("status") in ("confirmed", "anomaly") for s in steps)
        with Horizontal(classes="bottom"):
            yield Button(_("Cancel"), id="cancel", variant="error", classes="nav")
            yield Button(
                _("Finish"), id="finish", variant="success", classes="nav", disabled=not all_done
            )

    def _step_row(self, step: dict[str, Any]) -> ComposeResult:
        sid = str(step.get("id"))
        label = step.get("label_fr") if language() == "fr" else step.get("label_en")
        status = str(step.get("status", "pending"))
        with Horizontal(classes=f"step step-{status}"):
            text = str(label)
            consumables = step.get("consumables") or []
            if consumables:
                text += "\n" + _("Replace: {items}").format(items=", ".join(consumables))
            yield Static(text, classes="step-label")
            yield Static(self._status_text(step), id=f"status-{sid}", classes="step-status")
            if status == "pending":
                yield Button(_("Start"), id=f"start-{sid}", name=sid, classes="step-start")
            if status == "started":
                yield Button(_("Confirm"), id=f"confirm-{sid}", name=sid, classes="step-confirm")
            if status in ("pending", "started"):
                yield Button(_("Problem"), id=f"problem-{sid}", name=sid, classes="step-problem")

    def remaining(self, step: dict[str, Any]) -> int:
        left = float(step.get("remaining_s") or 0) - (self.kiosk.monotonic() - self.fetched_at)
        return max(0, math.ceil(left))

    def _status_text(self, step: dict[str, Any]) -> str:
        status = step.get("status")
        if status == "confirmed":
            return "✔ " + _("Done")
        if status == "anomaly":
            return "✖ " + _("Problem reported")
        if status == "started":
            left = self.remaining(step)
            if left > 0:
                return _("Wait {m}:{s:02d}").format(m=left // 60, s=left % 60)
            return _("Ready to confirm")
        contact = int(step.get("contact_time_s") or 0)
        if contact:
            return _("Contact time {n} s").format(n=contact)
        return ""

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self.reload())
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        for step in self.checklist.get("steps") or []:
            if step.get("status") == "started":
                for widget in self.query(f"#status-{step.get('id')}"):
                    if isinstance(widget, Static):
                        widget.update(self._status_text(step))

    async def reload(self) -> None:
        try:
            self.checklist = await self.kiosk.api.get("/api/hygiene/checklist")
        except ApiError as exc:
            self.on_refused(exc)
            return
        self.fetched_at = self.kiosk.monotonic()
        await self.recompose()

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> None:
        if await self.call(path, body) is not None:
            await self.reload()

    @on(Button.Pressed, ".step-start")
    async def start_step(self, event: Button.Pressed) -> None:
        await self._post(f"/api/hygiene/steps/{event.button.name}/start")

    @on(Button.Pressed, ".step-confirm")
    async def confirm_step(self, event: Button.Pressed) -> None:
        await self._post(f"/api/hygiene/steps/{event.button.name}/confirm")

    @on(Button.Pressed, ".step-problem")
    async def problem(self, event: Button.Pressed) -> None:
        self.choosing_anomaly = event.button.name
        await self.recompose()

    @on(Button.Pressed, ".anomaly")
    async def anomaly(self, event: Button.Pressed) -> None:
        step, self.choosing_anomaly = self.choosing_anomaly, None
        # The log is read by French inspectors: the reason goes in French.
        label = ANOMALIES.get(event.button.name or "") or ANOMALIES["other"]
        reason = catalogue("fr").gettext(label)
        await self._post(f"/api/hygiene/steps/{step}/anomaly", {"reason": reason})

    @on(Button.Pressed, "#anomaly-back")
    async def anomaly_back(self) -> None:
        self.choosing_anomaly = None
        await self.recompose()

    @on(Button.Pressed, "#finish")
    async def finish(self) -> None:
        if await self.call("/api/hygiene/finish") is not None:
            await self.kiosk.welcome()

    @on(Button.Pressed, "#cancel")
    async def cancel(self) -> None:
        await self.call("/api/hygiene/cancel")
        await self.kiosk.welcome()

    def on_refused(self, error: ApiError) -> None:
        if error.status == 409 and "remaining_s" in error.body:
            left = int(error.body["remaining_s"])
            self.show_error(_("Wait until the contact time is over: {n} s left.").format(n=left))
        else:
            super().on_refused(error)

    def refresh_cabin(self) -> None:
        # Finished (idle, closed) or an anomaly put the cabin out of service.
        if self.kiosk.cabin.get("state") != "cleaning":
            self.run_worker(self.kiosk.welcome())
