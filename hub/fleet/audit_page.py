"""The audit trail for administrators ("audit" permission): a read-only page (/audit) and
its JSON (/api/v1/audit), filtered by action, outcome, actor and time, newest first,
a page at a time. The trail holds ids, never patient data (hub/audit.py); what is shown
of each entry's ``detail`` is its plain values, each cut short."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.roles import allowed
from hub.context import HubContext
from hub.store.models import AuditEntry
from hub.web.common import json_error, page
from hub.web.guard import principal_of, refuse, require

STATIC = Path(__file__).resolve().parent / "static"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
DETAIL_CHARS = 200
# The actions offered in the page's filter: the distinct ones in the trail, at most this many.
MAX_ACTIONS = 200
FORBIDDEN = "Accès réservé aux administrateurs."


class AuditQuery(BaseModel):
    """The filters, from the query string. ``from`` is inclusive, ``to`` exclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    action: str | None = Field(None, pattern=r"^[a-z0-9_:.-]{1,64}$")
    outcome: Literal["ok", "refused"] | None = None
    actor: str | None = Field(None, min_length=1, max_length=64)
    since: AwareDatetime | None = Field(None, alias="from")
    until: AwareDatetime | None = Field(None, alias="to")
    before: int | None = Field(None, ge=1, description="entries older than this id (paging)")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class EntryView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    target: str
    outcome: str
    client: str
    detail: dict[str, str]

    @classmethod
    def of(cls, entry: AuditEntry) -> EntryView:
        return cls(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            actor_role=entry.actor_role,
            action=entry.action,
            target=entry.target,
            outcome=entry.outcome,
            client=entry.client,
            detail=_plain(entry.detail),
        )


def _plain(detail: dict[str, Any] | None) -> dict[str, str]:
    plain = {}
    for key, value in (detail or {}).items():
        if isinstance(value, str | int | float | bool):
            plain[str(key)[:40]] = str(value)[:DETAIL_CHARS]
    return plain


def parse_query(request: web.Request) -> AuditQuery | web.Response:
    repeated = sorted({k for k in request.query if len(request.query.getall(k)) > 1})
    if repeated:
        return json_error(422, f"filtre donné plusieurs fois : {', '.join(repeated)}")
    values = {k: v for k, v in request.query.items() if v != ""}
    try:
        query = AuditQuery.model_validate(values)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(filtres)", "message": e["msg"]}
            for e in exc.errors()
        ]
        return json_error(422, "filtres invalides", problems=problems)
    if query.since and query.until and query.until <= query.since:
        return json_error(422, "filtres invalides : « to » doit suivre « from »")
    return query


async def search(s: AsyncSession, query: AuditQuery) -> list[AuditEntry]:
    sql = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit)
    if query.action is not None:
        sql = sql.where(AuditEntry.action == query.action)
    if query.outcome is not None:
        sql = sql.where(AuditEntry.outcome == query.outcome)
    if query.actor is not None:
        sql = sql.where(AuditEntry.actor == query.actor)
    if query.since is not None:
        sql = sql.where(AuditEntry.at >= query.since)
    if query.until is not None:
        sql = sql.where(AuditEntry.at < query.until)
    if query.before is not None:
        sql = sql.where(AuditEntry.id < query.before)
    return list((await s.scalars(sql)).all())


class AuditRoutes:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/audit", self.audit_page),
            web.get("/api/v1/audit", self.entries),
        ]

    async def audit_page(self, request: web.Request) -> web.StreamResponse:
        who = await principal_of(self.ctx, request)
        if who is None or not who.second_factor:
            raise web.HTTPSeeOther("/login")
        if not allowed(who.roles, "audit"):
            await refuse(self.ctx, who, request, "access:audit", request.path)
            return json_error(403, FORBIDDEN)
        return page(STATIC / "audit.html")

    async def entries(self, request: web.Request) -> web.StreamResponse:
        await require(self.ctx, request, "audit")
        query = parse_query(request)
        if isinstance(query, web.Response):
            return query
        async with self.ctx.db.read() as s:
            found = await search(s, query)
            actions = list(
                await s.scalars(
                    select(AuditEntry.action)
                    .distinct()
                    .order_by(AuditEntry.action)
                    .limit(MAX_ACTIONS)
                )
            )
        entries = [EntryView.of(e).model_dump(mode="json") for e in found]
        more = len(found) == query.limit
        response = web.json_response(
            {
                "entries": entries,
                "next_before": found[-1].id if more and found else None,
                "actions": actions,
            }
        )
        response.headers["Cache-Control"] = "no-store"
        return response
