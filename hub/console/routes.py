"""The doctor console's page and socket, and the doctor's own consultations ("Mes
consultations": /doctor/consultations, its JSON, a report's PDF, signing one that ended
unsigned). All for the "console" permission, each doctor their own consultations only."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from hub import audit
from hub.auth.roles import allowed
from hub.auth.sessions import COOKIE_NAME, Principal
from hub.console.doctor_socket import ConsoleRegistry, DoctorSocket
from hub.context import HubContext
from hub.records import history, reports
from hub.records.assemble import record_of
from hub.shared.record import RecordInvalid
from hub.shared.report_pdf import render_report
from hub.web.common import BodyInvalid, client_of, json_error, origin_ok, page
from hub.web.guard import principal_of, refuse, require

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# A signaling message carries at most an SDP or a prescription (console_messages).
MAX_MESSAGE_BYTES = 256 * 1024
# A report: five fields of at most 4,000 characters.
MAX_REPORT_BODY = 64 * 1024


class ConsoleRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.registry = ConsoleRegistry()
        self.sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/doctor", self.console),
            web.get("/doctor/ws", self.websocket),
            web.static("/doctor/static", STATIC),
            web.get("/doctor/consultations", self.history_page),
            web.get("/api/v1/doctor/consultations", self.history_json),
            web.get("/doctor/consultations/{id}/report.pdf", self.report_pdf),
            web.post("/api/v1/doctor/consultations/{id}/sign", self.sign),
        ]

    async def console(self, request: web.Request) -> web.StreamResponse:
        return await self._doctors_page(request, "console.html")

    async def _doctors_page(self, request: web.Request, name: str) -> web.StreamResponse:
        """A page of the console's: to the login without a session, 403 without the role."""
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            raise web.HTTPSeeOther("/login")
        if not allowed(who.roles, "console"):
            await refuse(self.ctx, who, request, "access:console", request.path)
            return json_error(403, "Accès réservé aux médecins.")
        return page(STATIC / name)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            return json_error(401, "connectez-vous d'abord")
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        if not allowed(who.roles, "console"):
            await refuse(self.ctx, who, request, "access:console", request.path)
            return json_error(403, "Accès réservé aux médecins.")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=20.0)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            socket = DoctorSocket(
                self.ctx,
                self.registry,
                who,
                ws,
                token=request.cookies.get(COOKIE_NAME, ""),
                client=client_of(request),
            )
            await socket.run()
        finally:
            self.sockets.discard(ws)
        return ws

    async def close_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close(message=b"hub stopping")

    # -- "Mes consultations" ---------------------------------------------------------

    async def history_page(self, request: web.Request) -> web.StreamResponse:
        return await self._doctors_page(request, "history.html")

    async def history_json(self, request: web.Request) -> web.StreamResponse:
        who = await require(self.ctx, request, "console")
        try:
            query = history.parse_query(request.query)
        except history.QueryInvalid as exc:
            return json_error(422, str(exc))
        async with self.ctx.db.read() as s:
            items = await history.my_consultations(s, who.account.id, self.ctx.settings, query)
        response = web.json_response({"consultations": items, "doctor": who.account.display_name})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _own(
        self, request: web.Request, who: Principal, action: str
    ) -> history.OwnConsultation | web.Response:
        """The consultation of the URL if it is this doctor's; else a 404 (the same for
        another doctor's and for none: nothing tells them apart), audited."""
        consultation_id = request.match_info["id"][:32]
        async with self.ctx.db.read() as s:
            found = await history.own_consultation(s, who.account.id, consultation_id)
        if found is None:
            await refuse(self.ctx, who, request, action, consultation_id)
            return json_error(404, "Consultation introuvable parmi les vôtres.")
        return found

    async def report_pdf(self, request: web.Request) -> web.StreamResponse:
        who = await require(self.ctx, request, "console")
        found = await self._own(request, who, "report_viewed")
        if isinstance(found, web.Response):
            return found
        consultation, row = found
        if row is None or row.cabin_part is None:
            return json_error(
                409,
                "La cabine n'a pas encore transmis sa partie du dossier :"
                " le PDF viendra avec elle.",
            )
        site = self.ctx.settings.site(row.site_code)
        try:
            record = record_of(row, who.account, site.name if site else None)
        except RecordInvalid as exc:
            log.warning(
                "report %s: no PDF (%s)",
                consultation.id,
                ", ".join(p["path"] for p in exc.problems),
            )
            return json_error(409, "Ce dossier est incomplet : son PDF ne peut pas être produit.")
        pdf = await asyncio.to_thread(render_report, record)
        async with self.ctx.db.transaction() as s:
            audit.record(
                s, at=self.ctx.clock(), actor=who.username, role="doctor",
                action="report_viewed", target=consultation.id, client=client_of(request),
            )  # fmt: skip
        return web.Response(
            body=pdf,
            content_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="compte-rendu-{consultation.id}.pdf"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def sign(self, request: web.Request) -> web.StreamResponse:
        """A consultation that ended unsigned, signed from the history (its report as
        the doctor completed it there)."""
        who = await require(self.ctx, request, "console")
        if not origin_ok(request, self.ctx.settings):
            return json_error(403, "origine refusée")
        found = await self._own(request, who, "report_signed")
        if isinstance(found, web.Response):
            return found
        consultation, _ = found
        try:
            body = await _json_body(request)
            report = reports.parse_report(body.get("report"))
            now = self.ctx.clock()
            async with self.ctx.db.transaction() as s:
                row = await reports.sign_report(
                    s, consultation, report, now, self.ctx.settings,
                    actor=who.username, client=client_of(request),
                )  # fmt: skip
        except BodyInvalid as exc:
            return exc.response
        except RecordInvalid as exc:
            return json_error(422, "Compte rendu non signé.", problems=exc.problems)
        except reports.ReportRefused as exc:
            return json_error(409, exc.message, code=exc.code)
        log.info("consultation %s: report signed from the history", consultation.id)
        if consultation.ended_at is None:  # still in the booth (checkout): the copy
            await self.ctx.router.to_cabin(consultation.cabin_id, reports.signed_frame(row))
        async with self.ctx.db.read() as s:
            items = await history.my_consultations(
                s, who.account.id, self.ctx.settings, history.HistoryQuery()
            )
        item = next((i for i in items if i["consultation_id"] == consultation.id), None)
        return web.json_response({"consultation": item})


async def _json_body(request: web.Request) -> dict[str, object]:
    if request.content_length is not None and request.content_length > MAX_REPORT_BODY:
        raise BodyInvalid(json_error(413, "requête trop grande"))
    try:
        data = await request.json()
    except ValueError:
        raise BodyInvalid(json_error(400, "le corps de la requête n'est pas du JSON")) from None
    if not isinstance(data, dict):
        raise BodyInvalid(json_error(400, "objet JSON attendu"))
    return data
