"""The live queue of patients waiting in the booths, and claiming one.

A cabin says who waits (``waiting_patient``); the hub keeps one row per booth and tells
every doctor console (topic ``queue``), each showing only its doctor's sites. "Take" is
one transaction that inserts the consultation: the unique (cabin, session) constraint
makes two doctors clicking at once get one consultation and one "already taken",
whatever hub instance each is connected to."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.roles import serves_site
from hub.shared.wire import WaitingPatientFrame
from hub.store import core_writes
from hub.store.models import Cabin, Consultation, Site, WaitingPatientRow

QUEUE_TOPIC = "queue"


class ClaimRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


ALREADY_TAKEN = "Ce patient a déjà été pris en charge par un autre médecin."


async def entry_of(
    session: AsyncSession, row: WaitingPatientRow, *, online: bool | None = None
) -> dict[str, Any]:
    """``online``: known by the caller (the cabin that just spoke is), else read."""
    if online is None:
        online = bool(await session.scalar(select(Cabin.online).where(Cabin.id == row.cabin_id)))
    site = await session.get(Site, row.site_code)
    values = {c: getattr(row, c) for c in ENTRY_COLUMNS}
    return _entry(row.cabin_id, values, site.name if site else row.site_code, online)


# The waiting row's columns besides the cabin, as a dictionary of values.
ENTRY_COLUMNS = (
    "session_id", "site_code", "given_name", "age", "reason", "appointment_start",
    "walk_in", "waiting_since",
)  # fmt: skip


def _entry(cabin_id: str, values: dict[str, Any], site_name: str, online: bool) -> dict[str, Any]:
    return {
        "cabin_id": cabin_id,
        "cabin_online": online,
        "site_code": values["site_code"],
        "site_name": site_name,
        "session_id": values["session_id"],
        "given_name": values["given_name"],
        "age": values["age"],
        "reason": values["reason"],
        "appointment_start": _iso(values["appointment_start"]),
        "walk_in": values["walk_in"],
        "waiting_since": _iso(values["waiting_since"]),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclasses.dataclass(frozen=True)
class QueueChange:
    """What to tell the consoles: an entry (added or changed) or a cabin's entry gone."""

    site_code: str
    cabin_id: str
    entry: dict[str, Any] | None

    def message(self) -> dict[str, Any]:
        if self.entry is None:
            return {"type": "queue_removed", "cabin_id": self.cabin_id, "site": self.site_code}
        return {"type": "queue_entry", "entry": self.entry, "site": self.site_code}


async def update_waiting(
    session: AsyncSession,
    cabin_id: str,
    site_code: str,
    site_name: str,
    frame: WaitingPatientFrame,
) -> QueueChange | None:
    """Stores what the cabin says; None when nothing changed for the consoles. Core
    statements (hub/store/core_writes.py): this runs for every arrival and departure of
    a fleet, in the cabins' writer."""
    table = core_writes.table_of(WaitingPatientRow)
    patient = frame.patient
    if patient is None or frame.session_id is None:
        gone = await core_writes.execute(session, delete(table).where(table.c.cabin_id == cabin_id))
        core_writes.forget(session, WaitingPatientRow, cabin_id)
        return QueueChange(site_code, cabin_id, None) if gone.rowcount else None
    consultations = core_writes.table_of(Consultation)
    claimed = await core_writes.execute(
        session,
        select(consultations.c.id).where(
            consultations.c.cabin_id == cabin_id, consultations.c.session_id == frame.session_id
        ),
    )
    if claimed.first() is not None:  # a doctor has them already (a resend after a reconnect)
        return None
    values: dict[str, Any] = {
        "session_id": frame.session_id,
        "site_code": site_code,
        "given_name": patient.given_name,
        "age": patient.age,
        "reason": patient.reason,
        "appointment_start": patient.appointment_start,
        "walk_in": patient.walk_in,
        "waiting_since": patient.waiting_since,
    }
    # Update, else insert: portable, and safe because only this cabin's frames, through
    # the one writer, add its row.
    changed = await core_writes.execute(
        session, update(table).where(table.c.cabin_id == cabin_id).values(**values)
    )
    if not changed.rowcount:
        await core_writes.execute(session, insert(table).values(cabin_id=cabin_id, **values))
    core_writes.forget(session, WaitingPatientRow, cabin_id)
    return QueueChange(site_code, cabin_id, _entry(cabin_id, values, site_name, online=True))


async def snapshot(session: AsyncSession, sites: frozenset[str]) -> list[dict[str, Any]]:
    """The waiting patients of these sites, by appointment time (walk-ins by arrival)."""
    rows = (await session.scalars(select(WaitingPatientRow))).all()
    visible = [r for r in rows if serves_site(set(sites), r.site_code)]
    visible.sort(key=lambda r: (r.appointment_start or r.waiting_since, r.waiting_since))
    return [await entry_of(session, r) for r in visible]


async def claim(
    session: AsyncSession,
    *,
    doctor_id: str,
    sites: frozenset[str],
    cabin_id: str,
    session_id: str,
    now: datetime,
) -> Consultation:
    """Raises ClaimRefused(code) for: not_waiting, other_site, cabin_offline, busy,
    already_taken. The caller commits; IntegrityError at commit also means taken."""
    row = await session.get(WaitingPatientRow, cabin_id)
    if row is None or row.session_id != session_id:
        taken = await session.scalar(
            select(Consultation.id).where(
                Consultation.cabin_id == cabin_id, Consultation.session_id == session_id
            )
        )
        if taken is not None:
            raise ClaimRefused("already_taken", ALREADY_TAKEN)
        raise ClaimRefused("not_waiting", "Ce patient n'attend plus.")
    if not serves_site(set(sites), row.site_code):
        raise ClaimRefused(
            "other_site", "Ce patient attend dans un site qui ne vous est pas confié."
        )
    cabin = await session.get(Cabin, cabin_id)
    if cabin is None or not cabin.online:
        raise ClaimRefused("cabin_offline", "La cabine est injoignable pour le moment.")
    busy = await session.scalar(
        select(Consultation.id).where(
            Consultation.doctor_id == doctor_id, Consultation.ended_at.is_(None)
        )
    )
    if busy is not None:
        raise ClaimRefused("busy", "Terminez d'abord votre consultation en cours.")
    consultation = Consultation(
        id=uuid.uuid4().hex,
        cabin_id=cabin_id,
        session_id=session_id,
        site_code=row.site_code,
        doctor_id=doctor_id,
        claimed_at=now,
    )
    session.add(consultation)
    try:
        await session.flush()
    except IntegrityError:
        raise ClaimRefused("already_taken", ALREADY_TAKEN) from None
    await session.execute(
        delete(WaitingPatientRow).where(
            WaitingPatientRow.cabin_id == cabin_id, WaitingPatientRow.session_id == session_id
        )
    )
    return consultation


async def active_consultation(session: AsyncSession, doctor_id: str) -> Consultation | None:
    found: Consultation | None = await session.scalar(
        select(Consultation).where(
            Consultation.doctor_id == doctor_id, Consultation.ended_at.is_(None)
        )
    )
    return found
