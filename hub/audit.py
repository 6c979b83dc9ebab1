"""The audit trail: who did what, when, from where, and whether it was allowed.

Written in the same transaction as the change it describes (a booking and its audit
entry are both there or neither). ``detail`` holds ids, never patient data."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import AuditEntry

Outcome = Literal["ok", "refused"]


def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    target: str = "",
    outcome: Outcome = "ok",
    client: str = "",
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=at,
            actor=actor[:64],
            actor_role=role[:32],
            action=action[:64],
            target=target[:160],
            outcome=outcome,
            detail=detail,
            client=client[:64],
        )
    )


async def recent(
    session: AsyncSession, *, limit: int = 100, action: str | None = None
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list((await session.scalars(query)).all())
