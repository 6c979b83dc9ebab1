"""The "instruments" component: runs one link per configured instrument and keeps it
running, publishes states and measurements on the bus, answers measurement requests,
and records in the session which instruments the patient used (for the hygiene
checklist).

Every link runs under its own supervisor loop: a link that raises is logged, shown as
"error" and restarted with a fresh link object after a capped backoff. The last values
shown in /api/status are wiped when a patient starts checking in and when the session
ends, so nothing of one patient shows to the next."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from devices.config import InstrumentKind, InstrumentSettings
from devices.factory import make_link
from devices.link import InstrumentLink
from devices.measurement import Measurement
from kiosk import ui_auth
from kiosk.component import Component, Context
from kiosk.events import (
    InstrumentState,
    InstrumentStateChanged,
    MeasurementRequested,
    MeasurementTaken,
    PatientInstruction,
)
from kiosk.lifecycle import State, StateChanged

log = logging.getLogger(__name__)

# Restarting a crashed link: at once-ish, then at most every 30 s for a link that keeps
# crashing. A link that ran this long before crashing starts again from the short delay.
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 30.0
STABLE_RUN_S = 60.0
# Starting a measurement is a write to a port or a GATT request: never wait longer.
REQUEST_TIMEOUT_S = 5.0

# At or below this charge a ready instrument shows as "low_battery".
LOW_BATTERY_PERCENT = 20  # as the BLE link (devices/ble/link.py)

LinkFactory = Callable[[InstrumentSettings], InstrumentLink]

# What the patient is asked to do when the instrument cannot be started from here.
INSTRUCTIONS: dict[InstrumentKind, str] = {
    InstrumentKind.BLOOD_PRESSURE: (
        "Installez le brassard sur votre bras gauche, puis appuyez sur le bouton START "
        "du tensiomètre."
    ),
    InstrumentKind.THERMOMETER: (
        "Prenez le thermomètre, placez-le dans votre oreille, puis appuyez sur son bouton."
    ),
    InstrumentKind.PULSE_OXIMETER: (
        "Placez votre index dans l'oxymètre, ongle vers le haut, et ne bougez plus la main."
    ),
    InstrumentKind.SCALE: "Montez sur la balance, sans chaussures, et restez immobile.",
    InstrumentKind.BODY_COMPOSITION: (
        "Montez pieds nus sur la balance, posez bien les pieds sur les plaques, et restez immobile."
    ),
    InstrumentKind.GLUCOMETER: (
        "Insérez une bandelette dans le lecteur de glycémie, puis déposez une goutte de "
        "sang au bout de la bandelette."
    ),
    InstrumentKind.HEART_RATE: "Mettez la ceinture cardiaque, puis restez assis calmement.",
    InstrumentKind.OTOSCOPE: "Prenez l'otoscope : le médecin va vous guider.",
    InstrumentKind.DERMATOSCOPE: "Prenez le dermatoscope : le médecin va vous guider.",
    InstrumentKind.STETHOSCOPE: "Prenez le stéthoscope : le médecin va vous guider.",
}


@dataclasses.dataclass
class Instrument:
    """What the supervisor knows of one configured instrument."""

    settings: InstrumentSettings
    link: InstrumentLink
    state: InstrumentState = "absent"
    detail: str = "starting"
    battery: int | None = None
    last: Measurement | None = None
    last_at: datetime | None = None
    restarts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.settings.name,
            "kind": self.settings.kind.value,
            "transport": self.settings.transport,
            "state": self.state,
            "detail": self.detail,
            "battery_percent": self.battery,
            "last_measurement_at": None if self.last_at is None else self.last_at.isoformat(),
            "last": None if self.last is None else self.last.to_json(),
        }


class _Sink:
    """The LinkSink of one instrument: turns link reports into bus events."""

    def __init__(self, supervisor: InstrumentSupervisor, instrument: Instrument) -> None:
        self.supervisor = supervisor
        self.instrument = instrument

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        inst = self.instrument
        battery = inst.battery if battery is None else battery
        if state == "ready" and battery is not None and battery <= LOW_BATTERY_PERCENT:
            state = "low_battery"  # still usable: the technician should change it today
        if (state, detail, battery) == (inst.state, inst.detail, inst.battery):
            return
        inst.state, inst.detail, inst.battery = state, detail, battery
        self.supervisor.ctx.bus.publish(
            InstrumentStateChanged(
                instrument=inst.settings.name,
                kind=inst.settings.kind.value,
                state=state,
                detail=detail,
                battery_percent=battery,
            )
        )

    def measurement(self, measurement: Measurement) -> None:
        self.supervisor._measured(self.instrument, measurement)


class InstrumentSupervisor(Component):
    name = "instruments"

    def __init__(self, ctx: Context, link_factory: LinkFactory = make_link) -> None:
        super().__init__(ctx)
        self.link_factory = link_factory
        self.instruments: dict[str, Instrument] = {}
        self._recorded: set[tuple[str, str]] = set()  # (session id, instrument) stored
        self._events: Any = None

    async def start(self) -> None:
        for settings in self.ctx.settings.instruments:
            try:
                link = self.link_factory(settings)
            except Exception as exc:  # a bad entry must not stop the cabin
                log.exception("instrument %s cannot be set up", settings.name)
                self.instruments[settings.name] = Instrument(
                    settings, _NoLink(settings), state="error", detail=f"set-up failed: {exc}"
                )
                continue
            inst = Instrument(settings, link)
            self.instruments[settings.name] = inst
            self.ctx.tasks.spawn(self._supervise(inst), f"instrument-{settings.name}")
        self._events = self.ctx.bus.subscribe(MeasurementRequested, StateChanged)
        self.ctx.tasks.spawn(self._handle_events(self._events), "instrument-requests")

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()

    # -- supervision -------------------------------------------------------------------

    async def _supervise(self, inst: Instrument) -> None:
        delay = RESTART_FIRST_S
        sink = _Sink(self, inst)
        while True:
            started = time.monotonic()
            try:
                await inst.link.run(sink)
                why = "the link stopped by itself"
            except Exception as exc:
                why = f"the link crashed ({type(exc).__name__}: {exc})"
                log.exception("instrument %s: %s", inst.settings.name, why)
            if time.monotonic() - started > STABLE_RUN_S:
                delay = RESTART_FIRST_S
            inst.restarts += 1
            sink.state("error", f"{why}; restarting in {delay:g} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX_S)
            inst.link = self.link_factory(inst.settings)  # a link object is used once

    def _measured(self, inst: Instrument, measurement: Measurement) -> None:
        self.ctx.bus.publish(
            MeasurementTaken(instrument=inst.settings.name, measurement=measurement)
        )
        if measurement.intermediate:
            return  # live values (cuff pressure...) go to the screens, not to the status
        inst.last, inst.last_at = measurement, datetime.now(UTC)
        session = self.ctx.lifecycle.session_id
        if session is not None and (session, inst.settings.name) not in self._recorded:
            self.ctx.lifecycle.record_instrument_used(inst.settings.name)
            self._recorded.add((session, inst.settings.name))

    # -- requests ----------------------------------------------------------------------

    async def _handle_events(self, events: Any) -> None:
        async for event in events:
            if isinstance(event, MeasurementRequested):
                await self.measure(event.instrument)
            elif isinstance(event, StateChanged) and event.state in (
                State.CHECK_IN,
                State.AWAITING_DISINFECTION,
            ):
                for inst in self.instruments.values():
                    inst.last = inst.last_at = None

    async def measure(self, name: str) -> bool | None:
        """Starts a measurement, or tells the patient what to do. None: no such instrument."""
        inst = self.instruments.get(name)
        if inst is None:
            log.warning("measurement requested on unknown instrument %r", name)
            return None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                started = await inst.link.request_measurement()
        except Exception as exc:
            log.warning("instrument %s: measurement request failed: %r", name, exc)
            started = False
        if not started:
            self.ctx.bus.publish(
                PatientInstruction(
                    text=INSTRUCTIONS[inst.settings.kind], source="instrument", instrument=name
                )
            )
        return started

    # -- API ---------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """One entry per instrument, in configuration order (a list, as /api/status has
        always shown ``instruments``)."""
        return [inst.to_json() for inst in self.instruments.values()]

    def instrument_status(self, name: str) -> dict[str, Any]:
        return self.instruments[name].to_json()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/api/instruments", self._get_instruments),
            web.post("/api/instruments/{name}/measure", self._post_measure),
        ]

    async def _get_instruments(self, request: web.Request) -> web.Response:
        return web.json_response(self.status())

    async def _post_measure(self, request: web.Request) -> web.Response:
        if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
            return denied
        name = request.match_info["name"]
        if name not in self.instruments:
            return web.json_response({"error": f"no instrument named {name!r}"}, status=404)
        self.ctx.bus.publish(MeasurementRequested(instrument=name, requested_by="screen"))
        return web.json_response({"instrument": name, "requested": True}, status=202)


class _NoLink(InstrumentLink):
    """Stands in for a link that could not be built (shown as "error" in the status)."""

    async def run(self, sink: Any) -> None:
        await asyncio.Event().wait()


def instruments_component(ctx: Context) -> Component:
    return InstrumentSupervisor(ctx)
