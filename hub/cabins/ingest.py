"""What a cabin's outbox item changes at the hub, applied exactly once.

Each item is applied in one transaction with the cabin's ``last_outbox_seq``: an item at
or below it was applied before (a resend after a lost ack) and only gets its ack again.
The facts it records carry the cabin's idempotency key in a unique column as well."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from hub import audit
from hub.records import completion
from hub.settings import HubSettings
from hub.shared.hygiene_chain import GENESIS_HASH, chain_hash
from hub.shared.wire import (
    CabinRecord,
    CabinStatus,
    FrameInvalid,
    HygieneEntry,
    OutboxItem,
    PrescriptionSigned,
    SessionEvent,
)
from hub.store import core_writes
from hub.store.models import (
    Account,
    Booking,
    Cabin,
    Consultation,
    HygieneEntryRow,
    SessionEventRow,
    WaitingPatientRow,
)

LIGHT_CABIN = (defer(Cabin.status),)

# While a session is in these states its consultation goes on (checkout: the print).
CONSULTATION_STATES = frozenset({"waiting", "in_consultation", "checkout"})


@dataclasses.dataclass
class Applied:
    """What changed, for the router once the transaction is committed."""

    duplicate: bool = False
    status_changed: bool = False
    queue_removed: bool = False
    consultations_closed: list[str] = dataclasses.field(default_factory=list)
    hygiene_break: str | None = None


async def apply_item(
    session: AsyncSession,
    cabin_id: str,
    item: OutboxItem,
    now: datetime,
    settings: HubSettings | None = None,
) -> Applied:
    """Raises wire.FrameInvalid for a payload that is not its kind's (nothing applied).
    ``settings``: what a completed consultation record is delivered by (without them a
    record's cabin part is stored, and the delivery worker completes it)."""
    payload = item.parsed()
    if isinstance(payload, CabinStatus):
        return await _status(session, cabin_id, item, payload)
    # Without its status document: parsing it back for every frame of a 2,000-cabin fleet
    # was most of the writer's time (bench/bench_hub.py).
    cabin = await session.get(Cabin, cabin_id, with_for_update=True, options=LIGHT_CABIN)
    if cabin is None:
        raise LookupError(cabin_id)
    if item.seq <= cabin.last_outbox_seq:
        return Applied(duplicate=True)
    applied = Applied()
    if isinstance(payload, SessionEvent):
        await _session_event(session, cabin, item, payload, applied)
    elif isinstance(payload, HygieneEntry):
        await _hygiene_entry(session, cabin, payload, applied, now)
    elif isinstance(payload, PrescriptionSigned):
        await _prescription(session, cabin, payload)
    elif isinstance(payload, CabinRecord):
        await _consultation_record(session, cabin, payload, now, settings)
    cabin.last_outbox_seq = item.seq
    return applied


async def _status(
    session: AsyncSession, cabin_id: str, item: OutboxItem, status: CabinStatus
) -> Applied:
    """The most frequent item: one UPDATE that also tells a resend (no row changed)."""
    table = core_writes.table_of(Cabin)
    values: dict[str, object] = {
        "status": status.model_dump(mode="json"),
        "status_at": item.created_at,
        "last_outbox_seq": item.seq,
    }
    if status.software_version:
        values["software_version"] = status.software_version
    changed = await core_writes.execute(
        session,
        update(table)
        .where(table.c.id == cabin_id, table.c.last_outbox_seq < item.seq)
        .values(**values),
    )
    core_writes.forget(session, Cabin, cabin_id)
    if changed.rowcount:
        return Applied(status_changed=True)
    if await session.scalar(select(Cabin.id).where(Cabin.id == cabin_id)) is None:
        raise LookupError(cabin_id)
    return Applied(duplicate=True)


async def _session_event(
    session: AsyncSession, cabin: Cabin, item: OutboxItem, event: SessionEvent, applied: Applied
) -> None:
    seen = await session.scalar(
        select(SessionEventRow.id).where(
            SessionEventRow.cabin_id == cabin.id, SessionEventRow.key == item.key
        )
    )
    if seen is not None:
        return
    session.add(
        SessionEventRow(
            cabin_id=cabin.id,
            key=item.key,
            session_id=event.session_id,
            state=event.state,
            previous=event.previous,
            at=event.at,
            appointment_id=event.appointment_id,
        )
    )
    if event.appointment_id is not None:
        await session.execute(
            update(Booking)
            .where(Booking.id == event.appointment_id, Booking.checked_in_at.is_(None))
            .values(checked_in_at=event.at)
        )
    if event.state == "waiting" or event.session_id is None:
        return
    # The patient left the waiting room (taken, gone, cabin out of service). Events come
    # through the outbox and the waiting patient live, so either may arrive first: only a
    # later event of the same session removes the entry.
    row = await session.get(WaitingPatientRow, cabin.id)
    if row is not None and row.session_id == event.session_id and event.at >= row.waiting_since:
        await session.delete(row)
        applied.queue_removed = True
    if event.state not in CONSULTATION_STATES:
        open_ones = await session.scalars(
            select(Consultation).where(
                Consultation.cabin_id == cabin.id,
                Consultation.session_id == event.session_id,
                Consultation.ended_at.is_(None),
            )
        )
        for consultation in open_ones:
            consultation.ended_at = event.at
            applied.consultations_closed.append(consultation.id)


async def _prescription(session: AsyncSession, cabin: Cabin, signed: PrescriptionSigned) -> None:
    """Audited as the act of the doctor who had the consultation (signed in the console,
    over the hub or the peer-to-peer data channel: the cabin's record covers both)."""
    doctor = None
    if signed.session_id is not None:
        doctor = await session.scalar(
            select(Account.username)
            .join(Consultation, Consultation.doctor_id == Account.id)
            .where(Consultation.cabin_id == cabin.id, Consultation.session_id == signed.session_id)
        )
    audit.record(
        session, at=signed.signed_at, actor=doctor or f"cabin:{cabin.id}",
        role="doctor" if doctor else "cabin", action="prescription",
        target=f"{cabin.id}/{signed.document_id}", number=signed.number,
        session_id=signed.session_id or "", pdf_sha256=signed.pdf_sha256,
    )  # fmt: skip


async def _consultation_record(
    session: AsyncSession,
    cabin: Cabin,
    part: CabinRecord,
    now: datetime,
    settings: HubSettings | None,
) -> None:
    """The cabin's part of a record, for a consultation of this cabin and session only
    (FrameInvalid before any write otherwise: refused, acknowledged, audited by the
    gateway). The first part received is kept: a later one for the same consultation (a
    cabin that sent it again under a new sequence number) changes nothing."""
    consultation = await session.get(Consultation, part.consultation_id)
    if consultation is None:
        raise FrameInvalid(f"consultation_record: unknown consultation {part.consultation_id}")
    if consultation.cabin_id != cabin.id or consultation.session_id != part.session_id:
        raise FrameInvalid(
            f"consultation_record: consultation {part.consultation_id} is not one of this "
            "cabin's sessions"
        )
    row = await completion.row_for(session, consultation)
    if row.cabin_part is not None:
        return
    row.cabin_part = part.model_dump(mode="json")
    row.cabin_part_at = now
    row.started_at = part.started_at
    audit.record(
        session, at=now, actor=cabin.id, role="cabin", action="record_received",
        target=consultation.id, session_id=part.session_id,
        observations=len(part.observations), printed_copy=part.printed_copy,
    )  # fmt: skip
    if settings is not None:
        await completion.complete(session, row, now, settings, actor=cabin.id, role="cabin")


async def _hygiene_entry(
    session: AsyncSession, cabin: Cabin, entry: HygieneEntry, applied: Applied, now: datetime
) -> None:
    seq = entry.seq
    if await session.get(HygieneEntryRow, (cabin.id, seq)) is not None:
        return
    session.add(
        HygieneEntryRow(
            cabin_id=cabin.id,
            seq=seq,
            hash=entry.hash,
            prev_hash=entry.prev_hash,
            content=entry.content,
            received_at=now,
        )
    )
    problem = await _chain_problem(session, cabin.id, entry)
    if problem is not None and cabin.hygiene_chain_ok:
        cabin.hygiene_chain_ok = False
        cabin.hygiene_chain_problem = problem
        applied.hygiene_break = problem
    applied.status_changed = True


async def _chain_problem(session: AsyncSession, cabin_id: str, entry: HygieneEntry) -> str | None:
    """Why this entry does not continue the chain the hub holds, or None."""
    seq = entry.seq
    if seq == 1:
        expected_prev = GENESIS_HASH
    else:
        previous = await session.get(HygieneEntryRow, (cabin_id, seq - 1))
        if previous is None:
            return f"entry {seq} arrived without entry {seq - 1}"
        expected_prev = previous.hash
    if entry.prev_hash != expected_prev:
        return f"entry {seq} does not follow entry {seq - 1}"
    if chain_hash(entry.prev_hash, entry.content) != entry.hash:
        return f"entry {seq}: its content does not match its hash"
    return None
