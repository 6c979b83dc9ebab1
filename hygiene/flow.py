"""The referent's flow: log in, start and confirm each step (contact time enforced on the
server's clock), report an anomaly, finish (the chained log entry), cancel, and the
technician's clearing of an out-of-service cabin.

Progress lives in memory: after a crash in `cleaning` the lifecycle resumes in
`awaiting_disinfection` and the referent logs in and starts over (safe restart). The log
entry and the session's release are one SQLite transaction, so a crash leaves either both
or neither."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from hygiene import log as hlog
from hygiene.auth import Lockout, authenticate_pin, badge_matches
from hygiene.checklist import session_checklist
from hygiene.config import ProtocolStep, Referent
from hygiene.errors import FlowError, StorageError, UnknownStep
from kiosk.component import Context
from kiosk.events import DisinfectionLogged
from kiosk.lifecycle import State, TransitionRefused

log = logging.getLogger(__name__)

MAX_REASON_LEN = 200


@dataclasses.dataclass
class StepProgress:
    step: ProtocolStep
    started_at: datetime | None = None
    confirmed_at: datetime | None = None
    anomaly: str | None = None

    @property
    def ready_at(self) -> datetime | None:
        if self.started_at is None:
            return None
        return self.started_at + timedelta(seconds=self.step.contact_time_s)

    def remaining_s(self, now: datetime) -> int:
        if self.confirmed_at is not None:
            return 0
        ready = self.ready_at
        if ready is None:
            return self.step.contact_time_s
        return max(0, math.ceil((ready - now).total_seconds()))

    @property
    def status(self) -> str:
        if self.anomaly is not None:
            return "anomaly"
        if self.confirmed_at is not None:
            return "confirmed"
        return "started" if self.started_at is not None else "pending"

    def to_json(self, now: datetime) -> dict[str, Any]:
        s = self.step
        return {
            "id": s.id,
            "label_fr": s.label_fr,
            "label_en": s.label_en,
            "contact_time_s": s.contact_time_s,
            "consumables": list(s.consumables),
            "status": self.status,
            "started_at": _iso(self.started_at),
            "ready_at": _iso(self.ready_at),
            "remaining_s": self.remaining_s(now),
        }

    def to_log(self) -> dict[str, Any]:
        return {
            "id": self.step.id,
            "label_fr": self.step.label_fr,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "confirmed_at": _iso(self.confirmed_at),
            "consumables": list(self.step.consumables) if self.confirmed_at else [],
        }


@dataclasses.dataclass
class Cleaning:
    session_id: str
    referent: Referent
    started_at: datetime
    instruments: list[str]
    steps: dict[str, StepProgress]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class HygieneFlow:
    def __init__(
        self,
        ctx: Context,
        conn: sqlite3.Connection,
        clock: Callable[[], datetime],
    ) -> None:
        self.ctx = ctx
        self.conn = conn
        self.clock = clock
        self.lockout = Lockout(conn, clock)
        self.cleaning: Cleaning | None = None
        self._mutex = asyncio.Lock()

    # -- reading -------------------------------------------------------------------------

    def pending_session(self) -> str | None:
        return self.ctx.lifecycle.session_id or self.ctx.lifecycle.store.undisinfected_session()

    def session_steps(self, session_id: str | None) -> tuple[list[str], list[ProtocolStep]]:
        record = None if session_id is None else self.ctx.lifecycle.store.session(session_id)
        used = list(record.instruments_used) if record is not None else []
        return used, session_checklist(self.ctx.settings, used)

    def checklist(self) -> dict[str, Any]:
        now = self.clock()
        state = self.ctx.lifecycle.state
        c = self.cleaning
        if c is not None:
            session, referent = c.session_id, {"id": c.referent.id, "name": c.referent.name}
            steps = [p.to_json(now) for p in c.steps.values()]
        else:
            session, referent = None, None
            if state in (State.AWAITING_DISINFECTION, State.OUT_OF_SERVICE):
                session = self.ctx.lifecycle.store.undisinfected_session()
            _, planned = self.session_steps(session) if session else ([], [])
            steps = [StepProgress(s).to_json(now) for s in planned]
        return {"session_id": session, "state": state.value, "referent": referent, "steps": steps}

    # -- the referent ----------------------------------------------------------------------

    async def login(self, *, pin: str | None = None, badge: str | None = None) -> Referent:
        async with self._mutex:
            if self.ctx.lifecycle.state is not State.AWAITING_DISINFECTION:
                raise FlowError("aucune désinfection en attente")
            session = self.pending_session()
            if session is None:
                raise FlowError("aucune désinfection en attente")
            referents = self.ctx.settings.hygiene.referents
            if pin is not None:
                referent = await authenticate_pin(self.lockout, "referent", referents, pin)
            else:
                referent = self._by_badge(referents, badge or "")
            self.ctx.lifecycle.transition(State.CLEANING, f"referent {referent.id} logged in")
            used, steps = self.session_steps(session)
            self.cleaning = Cleaning(
                session_id=session,
                referent=referent,
                started_at=self.clock(),
                instruments=used,
                steps={s.id: StepProgress(s) for s in steps},
            )
            log.info("hygiene: referent %s started session %s", referent.id, session)
            return referent

    def _by_badge(self, referents: Sequence[Referent], uid: str) -> Referent:
        self.lockout.check("referent")
        for referent in referents:
            if badge_matches(referent.badge_uid, uid):
                self.lockout.succeeded("referent")
                return referent
        raise self.lockout.failed("referent")

    def _progress(self, step_id: str) -> tuple[Cleaning, StepProgress]:
        c = self.cleaning
        if c is None or self.ctx.lifecycle.state is not State.CLEANING:
            raise FlowError("aucun nettoyage en cours : identifiez-vous d'abord")
        progress = c.steps.get(step_id)
        if progress is None:
            raise UnknownStep(f"étape inconnue : {step_id}")
        if progress.confirmed_at is not None:
            raise FlowError("étape déjà confirmée")
        return c, progress

    async def start_step(self, step_id: str) -> datetime:
        async with self._mutex:
            _, progress = self._progress(step_id)
            if progress.started_at is None:
                progress.started_at = self.clock()
            ready = progress.ready_at
            assert ready is not None
            return ready

    async def confirm_step(self, step_id: str) -> None:
        async with self._mutex:
            _, progress = self._progress(step_id)
            now = self.clock()
            if progress.started_at is None:
                if progress.step.contact_time_s > 0:
                    raise FlowError(
                        "démarrez l'étape d'abord (temps de contact)",
                        remaining_s=progress.step.contact_time_s,
                    )
                progress.started_at = now
            remaining = progress.remaining_s(now)
            if remaining > 0:
                raise FlowError("temps de contact pas encore écoulé", remaining_s=remaining)
            progress.confirmed_at = now

    async def anomaly(self, step_id: str, reason: str) -> hlog.LogEntry:
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_LEN:
            raise ValueError(f"reason must be 1 to {MAX_REASON_LEN} characters")
        async with self._mutex:
            c, progress = self._progress(step_id)
            now = self.clock()
            progress.anomaly = reason
            anomalies = [{"step_id": step_id, "reason": reason, "at": now.isoformat()}]
            try:
                entry = await self._write(c, "anomaly", now, anomalies)
            except StorageError:
                progress.anomaly = None
                raise
            self.cleaning = None
            self.ctx.lifecycle.transition(State.OUT_OF_SERVICE, f"hygiene anomaly at {step_id}")
            return entry

    async def finish(self) -> hlog.LogEntry:
        async with self._mutex:
            c = self.cleaning
            if c is None or self.ctx.lifecycle.state is not State.CLEANING:
                raise FlowError("aucun nettoyage en cours")
            pending = [p.step.id for p in c.steps.values() if p.confirmed_at is None]
            if pending:
                raise FlowError("toutes les étapes ne sont pas confirmées", pending=pending)
            entry = await self._write(c, "disinfected", self.clock(), [])
            self.cleaning = None
            self.ctx.bus.publish(DisinfectionLogged(session_id=c.session_id, entry_hash=entry.hash))
            log.info("hygiene: session %s disinfected, entry %d", c.session_id, entry.seq)
            self.free_cabin(f"disinfection logged (entry {entry.seq})")
            return entry

    def free_cabin(self, reason: str) -> None:
        """Back to idle, or closed outside opening hours. Only after the entry committed."""
        lc = self.ctx.lifecycle
        if lc.state is State.AWAITING_DISINFECTION:
            lc.transition(State.CLEANING, reason)
        target = State.IDLE if lc.is_open(lc.clock()) else State.CLOSED
        lc.transition(target, reason)

    async def _write(
        self, c: Cleaning, outcome: hlog.Outcome, now: datetime, anomalies: list[dict[str, Any]]
    ) -> hlog.LogEntry:
        confirmed = [p for p in c.steps.values() if p.confirmed_at is not None]
        consumables = sorted({x for p in confirmed for x in p.step.consumables})
        draft = hlog.EntryDraft(
            cabin_id=self.ctx.settings.site.cabin_id,
            session_id=c.session_id,
            referent_id=c.referent.id,
            referent_name=c.referent.name,
            outcome=outcome,
            started_at=c.started_at,
            ended_at=now,
            steps=[p.to_log() for p in c.steps.values()],
            instruments_cleaned=sorted(c.instruments),
            consumables_replaced=consumables,
            anomalies=anomalies,
        )
        try:
            return await asyncio.to_thread(hlog.append, self.conn, draft)
        except sqlite3.Error as exc:
            log.error("hygiene: log entry not written: %s", exc)  # noqa: TRY400 - no traceback
            raise StorageError("le registre n'a pas pu être écrit : réessayez") from exc

    async def cancel(self) -> None:
        async with self._mutex:
            if self.ctx.lifecycle.state is not State.CLEANING:
                raise FlowError("aucun nettoyage en cours")
            self.cleaning = None
            self.ctx.lifecycle.transition(State.AWAITING_DISINFECTION, "referent cancelled")

    # -- the technician --------------------------------------------------------------------

    async def clear(self, pin: str) -> State:
        async with self._mutex:
            lc = self.ctx.lifecycle
            if lc.state is not State.OUT_OF_SERVICE:
                raise FlowError("la cabine n'est pas hors service")
            tech = await authenticate_pin(self.lockout, "technician", self._technicians(), pin)
            reason = f"cleared by technician {tech.id}"
            if lc.store.undisinfected_session() is not None:
                lc.transition(State.AWAITING_DISINFECTION, reason)
            else:
                lc.transition(State.IDLE if lc.is_open(lc.clock()) else State.CLOSED, reason)
            return lc.state

    def _technicians(self) -> list[Any]:
        people: list[Any] = list(self.ctx.settings.hygiene.technicians)
        site_hash = getattr(self.ctx.settings.site, "technician_pin_hash", "")
        if site_hash:
            people.append(_SiteTechnician("site-technician", "Technicien", site_hash))
        return people

    def resume_after_restart(self) -> None:
        """A crash after the entry committed but before the cabin went idle: finish the job
        (the entry exists, so the invariant holds)."""
        lc = self.ctx.lifecycle
        if lc.state is State.AWAITING_DISINFECTION and lc.store.undisinfected_session() is None:
            try:
                self.free_cabin("disinfection was logged before a restart")
            except TransitionRefused as exc:
                log.warning("hygiene: cannot resume: %s", exc)


@dataclasses.dataclass(frozen=True)
class _SiteTechnician:
    id: str
    name: str
    pin_hash: str
