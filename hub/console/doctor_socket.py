"""One doctor's console socket: the queue, "take", and the relay to the cabin.

The doctor's browser speaks two kinds of messages here:
- the hub's own: ``take`` (claim a waiting patient), ``report_draft`` and ``report_sign``
  (the consultation report: hub/records/reports.py; answered by ``report_saved``, or
  ``report`` once signed, or an ``error`` with its ``problems``);
- the cabin's (hub/shared/console_messages.py: join, answer, chat, prescription, end...),
  validated here and relayed to the cabin of the doctor's consultation.
It receives the queue (``queue``, then ``queue_entry``/``queue_removed``), its
consultation (``consultation``, then its report as stored: ``report``;
``consultation_closed``, ``cabin_link``) and everything
the cabin sends (``state``, ``patient``, ``offer``, ``measurement``...). A page reload
takes over from the older socket; the cabin is told the doctor left only when the last
socket of the consultation has closed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.auth.accounts import doctor_profile
from hub.auth.roles import ALL_SITES
from hub.auth.sessions import Principal
from hub.cabins.gateway import CABIN_LINK_TOPIC
from hub.console import queue
from hub.context import HubContext
from hub.records import reports
from hub.router import Router
from hub.shared import console_messages as cm
from hub.shared import wire
from hub.shared.record import RecordInvalid
from hub.shared.report_pdf import LOINC_FR, UNITS_FR
from hub.store.models import Account, Consultation, ConsultationRecordRow, Site, WebSession
from hub.turn import ice_servers_for

log = logging.getLogger(__name__)

# An account disabled or logged out elsewhere loses its open console within this time.
SESSION_RECHECK_S = 30.0
# Actions audited when the doctor's browser sends them to the cabin.
# (A prescription is audited from the cabin's record of it: hub/cabins/ingest.py.)
AUDITED = {"join": "join", "end": "consultation_end"}
# The hub's own messages about the consultation report.
REPORT_MESSAGES = frozenset({"report_draft", "report_sign"})


async def live_sessions(session: AsyncSession, digests: set[str], now: datetime) -> set[str]:
    """Those of these sessions (token hashes) that still log someone in: not expired,
    their account not disabled (hub.auth.sessions.principal's rule, for many at once)."""
    if not digests:
        return set()
    rows = await session.execute(
        select(WebSession.token_hash, WebSession.expires_at, Account.disabled_at)
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_hash.in_(digests))
    )
    return {digest for digest, expires, disabled in rows if expires > now and disabled is None}


class ConsoleRegistry:
    """The open consoles of this process: the one of each consultation (a reload replaces
    it), and every console by the sites it serves. The registry, not each console, takes
    the queue's and the cabins' news: a change goes only to the consoles of its site,
    encoded once (with 400 consoles, each filtering every change and encoding its own
    copy cost more than the sending)."""

    def __init__(self) -> None:
        self.by_consultation: dict[str, DoctorSocket] = {}
        self._sockets: set[DoctorSocket] = set()
        self._by_site: dict[str, set[DoctorSocket]] = {}  # ALL_SITES is a key too
        self._router: Router | None = None
        self._recheck: asyncio.Task[None] | None = None

    def add(self, socket: DoctorSocket) -> None:
        if self._router is None:
            self._router = socket.ctx.router
            self._router.subscribe(queue.QUEUE_TOPIC, self._on_queue)
            self._router.subscribe(CABIN_LINK_TOPIC, self._on_cabin_link)
            self._recheck = socket.ctx.tasks.spawn(
                self._recheck_sessions(socket.ctx), "console-session-check"
            )
        self._sockets.add(socket)
        for site in socket.who.sites:
            self._by_site.setdefault(site, set()).add(socket)

    def remove(self, socket: DoctorSocket) -> None:
        self._sockets.discard(socket)
        for site in socket.who.sites:
            sockets = self._by_site.get(site)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self._by_site[site]
        if not self._sockets and self._router is not None:
            self._router.unsubscribe(queue.QUEUE_TOPIC, self._on_queue)
            self._router.unsubscribe(CABIN_LINK_TOPIC, self._on_cabin_link)
            self._router = None
            if self._recheck is not None:
                self._recheck.cancel()
                self._recheck = None

    async def _recheck_sessions(self, ctx: HubContext) -> None:
        """Every SESSION_RECHECK_S, the sessions of all open consoles in one query (one
        per console was a transaction every 75 ms with 400 consoles): a console whose
        session ended is told so and closed."""
        while True:
            await asyncio.sleep(SESSION_RECHECK_S)
            sockets = list(self._sockets)
            try:
                async with ctx.db.read() as s:
                    valid = await live_sessions(s, {k.who.token_hash for k in sockets}, ctx.clock())
            except Exception:  # the store may be briefly away: the next round tries again
                log.exception("console: the sessions' check failed")
                continue
            for socket in sockets:
                if socket.who.token_hash not in valid:
                    await socket.session_ended()

    async def _on_queue(self, message: dict[str, Any]) -> None:
        site = message.get("site")
        if not isinstance(site, str):
            return
        targets = self._by_site.get(site, set()) | self._by_site.get(ALL_SITES, set())
        if not targets:
            return
        text = json.dumps({k: v for k, v in message.items() if k != "site"}, ensure_ascii=False)
        for socket in targets:
            try:
                await socket.send_text(text)
            except Exception:  # one console's failure must not starve the others
                log.exception("console: a queue change failed")

    async def _on_cabin_link(self, message: dict[str, Any]) -> None:
        cabin_id = message.get("cabin_id")
        for socket in list(self._sockets):
            consultation = socket.consultation
            if consultation is not None and consultation.cabin_id == cabin_id:
                try:
                    await socket.on_cabin_link(message)
                except Exception:  # one console's failure must not starve the others
                    log.exception("console: the cabin's link news failed")


class DoctorSocket:
    def __init__(
        self,
        ctx: HubContext,
        registry: ConsoleRegistry,
        who: Principal,
        ws: web.WebSocketResponse,
        *,
        token: str,
        client: str,
    ) -> None:
        self.ctx = ctx
        self.token = token
        self.registry = registry
        self.who = who
        self.ws = ws
        self.client = client
        self.consultation: Consultation | None = None
        self._send_lock = asyncio.Lock()

    # -- sending ---------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        if not self.ws.closed:
            await self.send_text(json.dumps(message, ensure_ascii=False))

    async def send_text(self, text: str) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(text)

    async def error(self, message: str, code: str = "", in_reply_to: str | None = None) -> None:
        await self.send(
            {"type": "error", "message": message, "code": code, "in_reply_to": in_reply_to}
        )

    # -- the socket's life -----------------------------------------------------------

    async def run(self) -> None:
        self.registry.add(self)  # before the queue's snapshot: no change falls between
        try:
            await self._greet()
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data)
        finally:
            self.registry.remove(self)
            await self._leave()

    async def _greet(self) -> None:
        account = self.who.account
        await self.send(
            {
                "type": "hello",
                "doctor": doctor_profile(account).model_dump(),
                "ice_servers": [
                    s.model_dump()
                    for s in ice_servers_for(self.ctx.settings, f"doctor-{account.id}")
                ],
                "ice_policy": self.ctx.settings.ice_policy,
                "site_timezones": {s.code: s.hours.timezone for s in self.ctx.settings.sites},
                # How measurements are named in the report (as its PDF names them).
                "measurement_labels": LOINC_FR,
                "unit_labels": UNITS_FR,
                "follow_up_presets": list(reports.FOLLOW_UP_PRESETS),
            }
        )
        async with self.ctx.db.read() as s:
            entries = await queue.snapshot(s, self.who.sites)
            active = await queue.active_consultation(s, account.id)
        await self.send({"type": "queue", "entries": entries})
        if active is not None:
            await self._open(active)
        else:
            # A console that reconnects (the hub restarted) may still show a consultation
            # that ended meanwhile (its end reached the hub through the cabin's outbox).
            await self.send({"type": "consultation_closed", "id": None})

    async def session_ended(self) -> None:
        """Logged out, expired or disabled elsewhere (the registry's check)."""
        await self.error("Votre session a pris fin : reconnectez-vous.", "logged_out")
        await self.ws.close()

    # -- messages from the browser ---------------------------------------------------

    async def _on_text(self, raw: str) -> None:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            await self.error("the message is not JSON", "invalid")
            return
        if isinstance(data, dict) and data.get("type") == "take":
            await self._take(data)
            return
        if isinstance(data, dict) and data.get("type") in REPORT_MESSAGES:
            await self._report(data)
            return
        try:
            message = cm.parse_doctor_message(raw)
        except cm.MessageInvalid as exc:
            await self.error(exc.message, "invalid", exc.in_reply_to)
            return
        consultation = self.consultation
        if consultation is None:
            await self.error(
                "Prenez d'abord un patient dans la file d'attente.", "no_consultation", message.id
            )
            return
        if message.type in AUDITED:
            await self._audit(AUDITED[message.type], consultation.id)
        frame = wire.FromDoctor(
            type="from_doctor",
            consultation_id=consultation.id,
            message=message.model_dump(mode="json", exclude_none=True),
        )
        if not await self.ctx.router.to_cabin(consultation.cabin_id, frame):
            await self.error(
                "La cabine est injoignable pour le moment : la demande n'a pas été transmise.",
                "cabin_offline",
                message.id,
            )

    async def _take(self, data: dict[str, Any]) -> None:
        cabin_id, session_id = data.get("cabin_id"), data.get("session_id")
        if not isinstance(cabin_id, str) or not isinstance(session_id, str):
            await self.error("'take' needs cabin_id and session_id", "invalid")
            return
        now = self.ctx.clock()
        target = f"{cabin_id}/{session_id}"[:160]
        try:
            async with self.ctx.db.transaction() as s:
                consultation = await queue.claim(
                    s,
                    doctor_id=self.who.account.id,
                    sites=self.who.sites,
                    cabin_id=cabin_id,
                    session_id=session_id,
                    now=now,
                )
                audit.record(
                    s, at=now, actor=self.who.username, role="doctor", action="claim",
                    target=target, client=self.client, consultation=consultation.id,
                )  # fmt: skip
        except queue.ClaimRefused as exc:
            await self._audit("claim", target, outcome="refused", reason=exc.code)
            await self.error(exc.message, exc.code)
            return
        log.info("consultation %s claimed", consultation.id)
        await self.ctx.router.publish(
            queue.QUEUE_TOPIC,
            {"type": "queue_removed", "cabin_id": cabin_id, "site": consultation.site_code},
        )
        await self._open(consultation)

    async def _audit(
        self, action: str, target: str, outcome: audit.Outcome = "ok", **detail: str
    ) -> None:
        async with self.ctx.db.transaction() as s:
            audit.record(
                s, at=self.ctx.clock(), actor=self.who.username, role="doctor", action=action,
                target=target, outcome=outcome, client=self.client, **detail,
            )  # fmt: skip

    # -- the report ------------------------------------------------------------------

    async def _report(self, data: dict[str, Any]) -> None:
        kind = str(data["type"])
        consultation = self.consultation
        if consultation is None:
            await self.error(
                "Prenez d'abord un patient dans la file d'attente.", "no_consultation", kind
            )
            return
        try:
            report = reports.parse_report(data.get("report"))
        except RecordInvalid as exc:
            await self._report_refused(kind, "report_invalid", exc)
            return
        now = self.ctx.clock()
        try:
            async with self.ctx.db.transaction() as s:
                if kind == "report_draft":
                    row = await reports.save_draft(s, consultation, report, now)
                else:
                    row = await reports.sign_report(
                        s, consultation, report, now, self.ctx.settings,
                        actor=self.who.username, client=self.client,
                    )  # fmt: skip
        except RecordInvalid as exc:
            await self._report_refused(kind, "report_refused", exc)
            return
        except reports.ReportRefused as exc:
            await self.error(exc.message, exc.code, kind)
            return
        if kind == "report_draft":
            await self.send({"type": "report_saved", "saved_at": now.isoformat()})
            return
        log.info("consultation %s: report signed", consultation.id)
        await self.send(reports.report_message(consultation.id, row))
        if not await self.ctx.router.to_cabin(consultation.cabin_id, reports.signed_frame(row)):
            await self.error(
                "Compte rendu signé. La cabine est injoignable : elle le recevra à son retour"
                " pour la copie imprimée du patient.",
                "cabin_offline",
            )

    async def _report_refused(self, kind: str, code: str, exc: RecordInvalid) -> None:
        message = (
            "Compte rendu non signé : " if kind == "report_sign" else "Brouillon refusé : "
        ) + "; ".join(p["message"] for p in exc.problems)
        await self.send(
            {
                "type": "error",
                "message": message,
                "code": code,
                "in_reply_to": kind,
                "problems": exc.problems,
            }
        )

    async def _send_report(self, consultation: Consultation) -> ConsultationRecordRow | None:
        async with self.ctx.db.read() as s:
            row = await s.get(ConsultationRecordRow, consultation.id)
        await self.send(reports.report_message(consultation.id, row))
        return row

    # -- the consultation ------------------------------------------------------------

    async def _open(self, consultation: Consultation) -> None:
        self.consultation = consultation
        older = self.registry.by_consultation.get(consultation.id)
        self.registry.by_consultation[consultation.id] = self
        self.ctx.router.attach_console(consultation.id, self._from_cabin)
        if older is not None and older is not self:
            older.consultation = None  # it no longer speaks for the consultation
        async with self.ctx.db.read() as s:
            site = await s.get(Site, consultation.site_code)
        await self.send(
            {
                "type": "consultation",
                "id": consultation.id,
                "cabin_id": consultation.cabin_id,
                "session_id": consultation.session_id,
                "site_code": consultation.site_code,
                "site_name": site.name if site else consultation.site_code,
            }
        )
        await self._send_report(consultation)
        await self._attach_to_cabin()
        if older is not None and older is not self:
            # Last: its close handshake (up to aiohttp's 10 s) must not hold this console.
            await older.error("Console ouverte ailleurs : celle-ci est fermée.", "replaced")
            await older.ws.close()

    async def _attach_to_cabin(self) -> None:
        consultation = self.consultation
        if consultation is None:
            return
        account = self.who.account
        frame = wire.DoctorAttached(
            type="doctor_attached",
            consultation_id=consultation.id,
            session_id=consultation.session_id,
            doctor=doctor_profile(account),
            ice_servers=ice_servers_for(self.ctx.settings, f"cabin-{consultation.cabin_id}"),
            ice_policy=self.ctx.settings.ice_policy,
        )
        online = await self.ctx.router.to_cabin(consultation.cabin_id, frame)
        await self.send({"type": "cabin_link", "online": online})
        if online:
            # A report signed while the cabin was away: it gets it now (the same frame
            # again after a reload: the cabin keeps the one it has).
            async with self.ctx.db.read() as s:
                row = await s.get(ConsultationRecordRow, consultation.id)
            if row is not None and row.signed_at is not None:
                await self.ctx.router.to_cabin(consultation.cabin_id, reports.signed_frame(row))

    async def _leave(self) -> None:
        consultation = self.consultation
        if consultation is None or self.registry.by_consultation.get(consultation.id) is not self:
            return
        del self.registry.by_consultation[consultation.id]
        self.ctx.router.detach_console(consultation.id, self._from_cabin)
        await self.ctx.router.to_cabin(
            consultation.cabin_id,
            wire.DoctorDetached(type="doctor_detached", consultation_id=consultation.id),
        )

    async def _from_cabin(self, message: dict[str, Any]) -> None:
        consultation = self.consultation
        if consultation is None or message.pop("_cabin", None) != consultation.cabin_id:
            return  # only the consultation's own cabin speaks to it
        if message.get("type") == "consultation_closed":
            self.registry.by_consultation.pop(consultation.id, None)
            self.ctx.router.detach_console(consultation.id, self._from_cabin)
            self.consultation = None
            await self.send({"type": "consultation_closed", "id": consultation.id})
            return
        await self.send(message)

    # -- the fleet's news (the registry hands each console its own) -------------------

    async def on_cabin_link(self, message: dict[str, Any]) -> None:
        consultation = self.consultation
        if consultation is None or message.get("cabin_id") != consultation.cabin_id:
            return
        if message.get("online"):
            await self._attach_to_cabin()  # the cabin reconnected: it must know us again
        else:
            await self.send({"type": "cabin_link", "online": False})
