"""When a consultation's record is complete, and what that sets off.

A record has two halves: the report the doctor signs in the console and the cabin's part
that comes through its outbox. Whichever arrives last completes it: ``complete`` is
called after each (the console's signature, the gateway's ingest) and does the work once.

Public API:
- ``row_for(session, consultation) -> ConsultationRecordRow``: the consultation's row,
  made if it is not there yet (the report's draft starts empty).
- ``when_completed(hook) -> unregister``: ``hook()`` after each commit that completed a
  record (the delivery worker wakes on it rather than at its next round).
- ``complete(session, row, now, settings, actor=..., role=...) -> bool``: when both halves
  are there and the report is signed, and not before: ``completed_at``, one
  ``record_deliveries`` row per channel that applies, the audit entry
  ``record_completed``; True when it completed now. Idempotent; the caller commits. A
  record whose halves do not make one is audited ``record_completed`` refused (the
  problems' paths), once for the same problems: the worker tries it each round. Only
  the session is touched (the cabin gateway runs it in its writer's thread).

Deliveries made:
- ``mail`` when the patient's GP gave a (MSSanté) address and ``[records.smtp]`` is
  configured: pending, the delivery worker sends it (hub/records/delivery.py);
- ``fhir`` when ``[records.fhir] endpoint`` is configured: pending, likewise;
- ``print``, the patient's printed copy at checkout, as the cabin reported it: delivered
  (printed), failed, declined, unanswered (offered, the patient left without a word) or
  not_offered. Nothing left to do for it at the hub."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.records.assemble import cabin_part_of, patient_search, record_of
from hub.settings import HubSettings
from hub.shared.record import RecordInvalid
from hub.store.models import (
    Account,
    AuditEntry,
    Consultation,
    ConsultationRecordRow,
    RecordDelivery,
)

log = logging.getLogger(__name__)

# Called once the transaction that completed a record has committed, from the thread that
# committed it (the cabin gateway's writer, or the hub's loop): the delivery worker's wake.
_completed_hooks: list[Callable[[], object]] = []

PRINT_STATES = {
    "printed": "delivered",
    "failed": "failed",
    "declined": "declined",
    "unanswered": "unanswered",
    "not_offered": "not_offered",
}


def when_completed(hook: Callable[[], object]) -> Callable[[], None]:
    """Calls ``hook()`` after each commit that completed a record (it must be quick and
    thread-safe); returns what unregisters it."""
    _completed_hooks.append(hook)
    return lambda: _completed_hooks.remove(hook)


def _committed(session: object) -> None:
    for hook in list(_completed_hooks):
        try:
            hook()
        except Exception:  # a hook's failure is not the commit's
            log.exception("record completion hook failed")


async def row_for(session: AsyncSession, consultation: Consultation) -> ConsultationRecordRow:
    """The record row of ``consultation``, added to the session when new."""
    row = await session.get(ConsultationRecordRow, consultation.id)
    if row is not None:
        return row
    row = ConsultationRecordRow(
        consultation_id=consultation.id,
        doctor_id=consultation.doctor_id,
        cabin_id=consultation.cabin_id,
        session_id=consultation.session_id,
        site_code=consultation.site_code,
        started_at=consultation.claimed_at,
        report={},
        report_saved_at=None,
        signed_at=None,
        cabin_part=None,
        cabin_part_at=None,
        completed_at=None,
        patient_search=None,
    )
    session.add(row)
    return row


def fhir_target(endpoint: str) -> str:
    """The endpoint as stored and shown: without its query (it may hold a token)."""
    return endpoint.split("?", 1)[0][:300]


async def complete(
    session: AsyncSession,
    row: ConsultationRecordRow,
    now: datetime,
    settings: HubSettings,
    *,
    actor: str = "hub",
    role: str = "system",
) -> bool:
    """Completes ``row`` if it can be and is not yet; True if it completed now."""
    if row.completed_at is not None or row.signed_at is None or row.cabin_part is None:
        return False
    practitioner = await session.get(Account, row.doctor_id)
    if practitioner is None:  # the foreign key forbids it; said rather than assumed
        raise LookupError(row.doctor_id)
    site = settings.site(row.site_code)
    try:
        record = record_of(row, practitioner, site.name if site else None)
    except RecordInvalid as exc:
        # The paths only: the messages may quote the patient's data.
        paths = sorted({p["path"] for p in exc.problems})
        if await _refused_already(session, row, paths):
            return False  # the worker tries again each round: said once
        audit.record(
            session, at=now, actor=actor, role=role, action="record_completed",
            target=row.consultation_id, outcome="refused", problems=paths,
        )  # fmt: skip
        log.warning("record %s cannot be assembled (%s)", row.consultation_id, ", ".join(paths))
        return False
    part = cabin_part_of(row)
    assert part is not None  # record_of needs it
    row.completed_at = now
    row.patient_search = patient_search(record.patient)
    existing = set(
        await session.scalars(
            select(RecordDelivery.channel).where(
                RecordDelivery.consultation_id == row.consultation_id
            )
        )
    )
    wanted: list[RecordDelivery] = []
    gp = record.general_practitioner
    if gp is not None and gp.mssante is not None and settings.records.smtp is not None:
        wanted.append(_delivery(row, "mail", gp.mssante, "pending", now))
    endpoint = settings.records.fhir.endpoint
    if endpoint is not None:
        wanted.append(_delivery(row, "fhir", fhir_target(endpoint), "pending", now))
    printed = _delivery(row, "print", row.cabin_id, PRINT_STATES[part.printed_copy], now)
    if printed.state == "delivered":
        printed.delivered_at = part.ended_at
    printed.next_attempt_at = None
    wanted.append(printed)
    for delivery in wanted:
        if delivery.channel not in existing:
            session.add(delivery)
    event.listen(session.sync_session, "after_commit", _committed, once=True)
    audit.record(
        session, at=now, actor=actor, role=role, action="record_completed",
        target=row.consultation_id, cabin_id=row.cabin_id, session_id=row.session_id,
        channels=sorted(d.channel for d in wanted), printed_copy=part.printed_copy,
    )  # fmt: skip
    return True


async def _refused_already(
    session: AsyncSession, row: ConsultationRecordRow, paths: list[str]
) -> bool:
    """The record's last completion entry since its last half came is a refusal for these
    same problems (the audit's time index bounds the search)."""
    since = max(t for t in (row.signed_at, row.cabin_part_at, row.started_at) if t is not None)
    last = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.at >= since,
            AuditEntry.action == "record_completed",
            AuditEntry.target == row.consultation_id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return last is not None and last.outcome == "refused" and last.detail.get("problems") == paths


def _delivery(
    row: ConsultationRecordRow, channel: str, target: str, state: str, now: datetime
) -> RecordDelivery:
    return RecordDelivery(
        consultation_id=row.consultation_id,
        channel=channel,
        target=target[:300],
        state=state,
        attempts=0,
        next_attempt_at=now if state == "pending" else None,
        last_error=None,
        delivered_at=None,
        created_at=now,
    )
