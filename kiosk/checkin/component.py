"""The `checkin` component: the API the touchscreen UI process drives.

Every route is guarded by the local UI token (kiosk/ui_auth.py). Errors carry a stable
``code`` the UI translates and a plain French ``error``; a refused request changes
nothing. What the patient types lives in memory for the session only and is never
logged."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import WSCloseCode, web
from pydantic import BaseModel, ValidationError

from hub.shared.ins import GeneralPractitioner, Patient
from kiosk import ui_auth
from kiosk.checkin.details import DetailsRefused, build_details, prefill
from kiosk.checkin.lockout import RecentFailures
from kiosk.checkin.rules import (
    ChatIn,
    CodeIn,
    ConsentIn,
    DetailsIn,
    IdentityIn,
    PinIn,
    QuestionnaireIn,
    age_on,
    age_verdict,
    same_person,
)
from kiosk.checkin.session import PatientSession
from kiosk.checkin.stream import EVENT_TYPES, stream_events
from kiosk.checkin.technician import TechnicianGate
from kiosk.component import Component, Context
from kiosk.events import ChatMessage
from kiosk.lifecycle import PATIENT_STATES, State, StateChanged, TransitionRefused

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
B = TypeVar("B", bound=BaseModel)
MAX_WRONG_CODES = 10
WRONG_CODES_WINDOW_S = 10 * 60


class Refused(Exception):
    """A request the patient's screen made that the cabin refuses (nothing changed)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> web.Response:
        body = {"error": self.message, "code": self.code, **self.extra}
        return web.json_response(body, status=self.status)


class CheckinComponent(Component):
    name = "checkin"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.patient: PatientSession | None = None
        hashes = [t.pin_hash for t in ctx.settings.hygiene.technicians]
        self.technician = TechnicianGate([ctx.settings.site.technician_pin_hash, *hashes])
        # Wrong appointment codes, whatever the session: a patient's typos pass, trying
        # codes one after another does not (six digits: a million of them).
        self.wrong_codes = RecentFailures(MAX_WRONG_CODES, WRONG_CODES_WINDOW_S)
        self.sockets: set[web.WebSocketResponse] = set()

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        sub = self.ctx.bus.subscribe(StateChanged)
        self.ctx.tasks.spawn(self._watch_states(sub), "checkin-wipe")

    async def _watch_states(self, sub: Any) -> None:
        async with sub:
            async for _event in sub:
                # Judge by the current state, not the event's: a late event must not wipe
                # the patient who has just started.
                lc = self.ctx.lifecycle
                patient = self.patient
                if patient is not None and (
                    lc.state not in PATIENT_STATES or patient.session_id != lc.session_id
                ):
                    self._wipe()

    def _wipe(self) -> None:
        if self.patient is not None:
            self.patient.wipe()
            self.patient = None

    def status(self) -> Any:
        return {"screens_connected": len(self.sockets), "checking_in": self.patient is not None}

    async def close_long_requests(self) -> None:
        """Called by the HTTP server at shutdown: close the screens' event streams."""
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"cabin daemon stopping")

    def current_patient(self) -> dict[str, Any] | None:
        """The identified patient of the running session (for the doctor console)."""
        lc = self.ctx.lifecycle
        if self.patient is None or lc.state not in PATIENT_STATES:
            return None
        if self.patient.session_id != lc.session_id:
            return None
        return self.patient.for_doctor()

    def identity_for_record(self) -> tuple[Patient, GeneralPractitioner | None] | None:
        """The running session's patient as the consultation record names them
        (hub.shared.ins.Patient: the INS traits given or booked, else the names and birth
        date typed) and their own GP; None when nobody is identified. The patient is
        wiped once the session leaves the patient states (after checkout)."""
        lc = self.ctx.lifecycle
        patient = self.patient
        if patient is None or lc.state not in PATIENT_STATES:
            return None
        if patient.session_id != lc.session_id:
            return None
        return patient.identity_for_record()

    # -- routes ---------------------------------------------------------------------

    def routes(self) -> list[web.AbstractRouteDef]:
        g = self._guarded
        return [
            web.get("/api/ui/state", g(self.get_state)),
            web.post("/api/ui/checkin/start", g(self.start_checkin)),
            web.post("/api/ui/checkin/code", g(self.enter_code)),
            web.post("/api/ui/checkin/walk-in", g(self.walk_in)),
            web.post("/api/ui/checkin/identity", g(self.identity)),
            web.get("/api/ui/checkin/details", g(self.get_details)),
            web.post("/api/ui/checkin/details", g(self.details)),
            web.post("/api/ui/checkin/consent", g(self.consent)),
            web.post("/api/ui/checkin/questionnaire", g(self.questionnaire)),
            web.post("/api/ui/checkin/abandon", g(self.abandon)),
            web.post("/api/ui/chat", g(self.chat)),
            web.post("/api/ui/leave", g(self.leave)),
            web.post("/api/ui/technician/login", g(self.technician_login)),
            web.get("/api/ui/events", g(self.events)),
        ]

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if (denied := ui_auth.check(request, self.ctx.ui_token)) is not None:
                return denied
            try:
                return await handler(request)
            except Refused as refused:
                return refused.response()

        return guarded

    async def get_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state_document())

    def state_document(self) -> dict[str, Any]:
        s, lc = self.ctx.settings, self.ctx.lifecycle
        now = lc.clock()
        change = self.ctx.opening_hours.next_change(now)
        return {
            "state": lc.state.value,
            "locked": lc.locked,
            "open_now": self.ctx.opening_hours.is_open(now),
            "next_change": change.isoformat() if change else None,
            "site": {
                "name": s.site.name,
                "booking_hint": s.site.booking_hint,
                "walk_in": s.site.walk_in,
            },
            "session_active": lc.session_id is not None,
            "doctors_reachable": self.ctx.doctors_reachable,
            "hours": hours_text(self.ctx.opening_hours, now),
            "step": self.patient.step if self.patient is not None else None,
            "inactivity_s": s.site.ui_inactivity_s,
        }

    async def start_checkin(self, request: web.Request) -> web.Response:
        lc = self.ctx.lifecycle
        if lc.state is State.CLOSED or not self.ctx.opening_hours.is_open(lc.clock()):
            raise Refused(409, "closed", "La cabine est fermée.")
        if lc.state is not State.IDLE:
            raise Refused(409, "locked", "La cabine n'est pas disponible pour le moment.")
        self._transition(State.CHECK_IN, "patient started check-in")
        self._wipe()
        self.patient = PatientSession(session_id=lc.session_id)
        return web.json_response({"state": lc.state.value, "step": "code"})

    async def enter_code(self, request: web.Request) -> web.Response:
        patient = self._patient_at("code")
        body = await _body(request, CodeIn)
        if (wait := self.wrong_codes.locked_for()) > 0:
            raise Refused(
                423, "locked_out", "Trop d'essais : réessayez plus tard.", retry_after_s=int(wait)
            )
        appt = await asyncio.to_thread(
            self.ctx.appointments.find_by_code, body.code, self.ctx.lifecycle.clock()
        )
        if appt is None:
            self.wrong_codes.failed()
            left = self.wrong_codes.attempts_left
            log.warning("appointment code refused (%d more allowed)", left)
            raise Refused(404, "unknown_code", "Code inconnu.")
        patient.appointment_id = appt.id
        patient.appt_family, patient.appt_given = appt.family_name, appt.given_name
        patient.appt_birth = appt.birth_date
        patient.appt_sex = appt.sex
        patient.appt_patient, patient.appt_gp = appt.patient, appt.general_practitioner
        patient.answers["booked_reason"] = appt.reason
        patient.step = "identity"
        return web.json_response({"step": "identity"})

    async def walk_in(self, request: web.Request) -> web.Response:
        patient = self._patient_at("code")
        if not self.ctx.settings.site.walk_in:
            raise Refused(403, "no_walk_in", "Cette cabine reçoit uniquement sur rendez-vous.")
        patient.walk_in = True
        patient.step = "identity"
        return web.json_response({"step": "identity"})

    async def identity(self, request: web.Request) -> web.Response:
        patient = self._patient_at("identity")
        body = await _body(request, IdentityIn)
        site = self.ctx.settings.site
        today = self.ctx.lifecycle.clock().astimezone(self.ctx.opening_hours.zone).date()
        age = age_on(body.birth_date, today)
        verdict = age_verdict(
            age, body.representative_present, min_age=site.min_age, minor_min_age=site.minor_min_age
        )
        if verdict == "too_young":
            raise Refused(
                403, "too_young", "La cabine ne reçoit pas les enfants de moins de 15 ans."
            )
        if verdict == "needs_representative":
            raise Refused(
                403,
                "needs_representative",
                "Un mineur doit être accompagné d'un représentant légal.",
            )
        if patient.appt_birth is not None and not same_person(
            body.family_name,
            body.given_name,
            body.birth_date,
            appt_family=patient.appt_family,
            appt_given=patient.appt_given,
            appt_birth=patient.appt_birth,
        ):
            raise Refused(
                409, "identity_mismatch", "Ces informations ne correspondent pas au rendez-vous."
            )
        typed = PatientSession(
            session_id=None,
            family_name=body.family_name,
            given_name=body.given_name,
            birth_date=body.birth_date,
        )
        try:
            typed.typed_patient()  # the record must be able to name them
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise Refused(
                422, "invalid", "Certaines informations ne sont pas valables.", fields=fields
            ) from None
        patient.family_name, patient.given_name = body.family_name, body.given_name
        patient.birth_date, patient.age = body.birth_date, age
        patient.representative_present = verdict == "minor_with_representative"
        patient.step = "details"
        return web.json_response({"step": "details", "age_rule": verdict})

    async def get_details(self, request: web.Request) -> web.Response:
        """What the details screen shows first (the booking's INS traits and GP)."""
        patient = self._patient_at("details")
        return web.json_response(prefill(patient))

    async def details(self, request: web.Request) -> web.Response:
        """The optional INS traits and GP. Refused with hub.shared.ins's message on the
        field, nothing changed; skipping it is going straight to consent."""
        patient = self._patient_at("details")
        body = await _body(request, DetailsIn)
        try:
            ins, gp = build_details(patient, body)
        except DetailsRefused as refused:
            raise Refused(422, "invalid_details", refused.message, field=refused.field) from None
        patient.ins, patient.gp, patient.details_given = ins, gp, True
        patient.step = "consent"
        return web.json_response({"step": "consent"})

    async def consent(self, request: web.Request) -> web.Response:
        # From "details" too: skipping the optional details.
        patient = self._patient_at("consent", "details")
        body = await _body(request, ConsentIn)
        if not (body.teleconsultation and body.data_processing):
            raise Refused(
                403,
                "consent_refused",
                "Sans ces deux accords, la téléconsultation n'est pas possible.",
            )
        patient.answers["consent"] = {"teleconsultation": True, "data_processing": True}
        patient.step = "questionnaire"
        return web.json_response({"step": "questionnaire"})

    async def questionnaire(self, request: web.Request) -> web.Response:
        patient = self._patient_at("questionnaire")
        body = await _body(request, QuestionnaireIn)
        patient.answers.update(body.model_dump())
        self._transition(State.WAITING, "check-in complete")
        patient.step = "done"
        if patient.appointment_id is not None:
            await asyncio.to_thread(self.ctx.appointments.mark_used, patient.appointment_id)
        return web.json_response({"state": self.ctx.lifecycle.state.value})

    async def abandon(self, request: web.Request) -> web.Response:
        if self.ctx.lifecycle.state not in (State.CHECK_IN, State.WAITING):
            raise Refused(409, "not_checking_in", "Il n'y a pas d'accueil en cours.")
        self._transition(State.AWAITING_DISINFECTION, "patient left before the consultation")
        self._wipe()
        return web.json_response({"state": self.ctx.lifecycle.state.value})

    async def chat(self, request: web.Request) -> web.Response:
        if self.ctx.lifecycle.state not in PATIENT_STATES:
            raise Refused(409, "no_consultation", "Il n'y a pas de consultation en cours.")
        body = await _body(request, ChatIn)
        self.ctx.bus.publish(ChatMessage(sender="patient", text=body.text))
        return web.json_response({"sent": True})

    async def leave(self, request: web.Request) -> web.Response:
        if self.ctx.lifecycle.state is not State.CHECKOUT:
            raise Refused(409, "not_checkout", "La consultation n'est pas terminée.")
        self._transition(State.AWAITING_DISINFECTION, "patient left the booth")
        self._wipe()
        return web.json_response({"state": self.ctx.lifecycle.state.value})

    async def technician_login(self, request: web.Request) -> web.Response:
        body = await _body(request, PinIn)
        gate = self.technician
        if not gate.configured:
            raise Refused(403, "no_technician", "Aucun code technicien n'est configuré.")
        if (wait := gate.locked_for()) > 0:
            raise Refused(
                423, "locked_out", "Trop d'essais : réessayez plus tard.", retry_after_s=int(wait)
            )
        ok = await asyncio.to_thread(gate.attempt, body.pin)
        if not ok:
            log.warning("technician PIN refused")
            raise Refused(401, "wrong_pin", "Code incorrect.", attempts_left=gate.attempts_left)
        log.info("technician logged in on the touchscreen")
        return web.json_response({"ok": True})

    async def events(self, request: web.Request) -> web.StreamResponse:
        return await stream_events(request, self.ctx, EVENT_TYPES, self.sockets)

    # -- helpers --------------------------------------------------------------------

    def _patient_at(self, step: str, *also: str) -> PatientSession:
        lc = self.ctx.lifecycle
        patient = self.patient
        if lc.state is not State.CHECK_IN or patient is None or patient.session_id != lc.session_id:
            raise Refused(409, "not_checking_in", "Il n'y a pas d'accueil en cours.")
        if patient.step != step and patient.step not in also:
            raise Refused(409, "wrong_step", "Cette étape n'est pas la bonne.", step=patient.step)
        return patient

    def _transition(self, target: State, reason: str) -> None:
        try:
            self.ctx.lifecycle.transition(target, reason)
        except TransitionRefused as exc:
            raise Refused(
                409, "refused", "La cabine n'est pas disponible pour le moment.", why=exc.why
            ) from None


async def _body(request: web.Request, model: type[B]) -> B:
    try:
        raw = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(400, "bad_request", "La demande est illisible.") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(body)" for e in exc.errors()})
        raise Refused(
            422, "invalid", "Certaines informations ne sont pas valables.", fields=fields
        ) from None


def hours_text(hours: Any, now: datetime) -> dict[str, list[str]]:
    """This week's opening ranges by weekday name (0 = Monday), for the welcome screen."""
    from datetime import timedelta

    local = now.astimezone(hours.zone).date()
    out: dict[str, list[str]] = {}
    if hours.always_open:
        return out
    for offset in range(7):
        day = local + timedelta(days=offset)
        ranges = hours.ranges_on(day)
        out[day.isoformat()] = [f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges]
    return out


def checkin_factory(ctx: Context) -> Component:
    return CheckinComponent(ctx)
