"""The hub's purge: what is past its retention ([records.retention]) is deleted.

- records: a consultation record and its deliveries, ``records_days`` after it was
  completed, or after the consultation began (the row's ``started_at``, when the record
  was made) for one never completed (a cabin part that never came, a report never signed);
- the audit trail's entries older than ``audit_days``;
- bookings whose slot ended more than ``bookings_days`` ago, with their booking changes
  (the feed the cabins follow: a cabin's cursor past them needs them no more; one whose
  cursor is behind gets the later changes only, and a booking that old is past anyway).
Consultations themselves (ids, times, no patient data) stay: the audit refers to them.

Public API: ``purge(session, now, retention) -> Purged``; ``purge_loop(ctx)``, the
service's periodic job (every ``purge_interval_s``, the first at start)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.context import HubContext
from hub.settings import RetentionSettings
from hub.store.models import (
    AuditEntry,
    Booking,
    BookingChange,
    ConsultationRecordRow,
    RecordDelivery,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Purged:
    records: int = 0
    deliveries: int = 0
    audit: int = 0
    bookings: int = 0
    booking_changes: int = 0

    @property
    def total(self) -> int:
        return self.records + self.deliveries + self.audit + self.bookings + self.booking_changes


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(session: AsyncSession, now: datetime, retention: RetentionSettings) -> Purged:
    """Deletes what is past retention, in the caller's transaction; what it deleted.
    Subqueries rather than lists of ids: a first purge (or one after a long stop) may
    remove more rows than a statement takes parameters (asyncpg: 32,767)."""
    records_before = now - timedelta(days=retention.records_days)
    old_records = select(ConsultationRecordRow.consultation_id).where(
        or_(
            ConsultationRecordRow.completed_at < records_before,
            (ConsultationRecordRow.completed_at.is_(None))
            & (ConsultationRecordRow.started_at < records_before),
        )
    )
    deliveries = _count(
        await session.execute(
            delete(RecordDelivery).where(RecordDelivery.consultation_id.in_(old_records))
        )
    )
    records = _count(
        await session.execute(
            delete(ConsultationRecordRow).where(
                ConsultationRecordRow.consultation_id.in_(old_records)
            )
        )
    )
    audit_entries = _count(
        await session.execute(
            delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=retention.audit_days))
        )
    )
    old_bookings = select(Booking.id).where(
        Booking.slot_end < now - timedelta(days=retention.bookings_days)
    )
    changes = _count(
        await session.execute(
            delete(BookingChange).where(BookingChange.booking_id.in_(old_bookings))
        )
    )
    bookings = _count(await session.execute(delete(Booking).where(Booking.id.in_(old_bookings))))
    purged = Purged(records, deliveries, audit_entries, bookings, changes)
    if purged.total:
        # Counts only: what the purge removed is not to be found again, here neither.
        audit.record(
            session, at=now, actor="hub", role="system", action="retention_purge",
            records=records, deliveries=deliveries, audit_entries=audit_entries,
            bookings=bookings, booking_changes=changes,
        )  # fmt: skip
    return purged


async def purge_loop(ctx: HubContext) -> None:
    retention = ctx.settings.records.retention
    while True:
        try:
            async with ctx.db.transaction() as s:
                purged = await purge(s, ctx.clock(), retention)
            if purged.total:
                log.info(
                    "retention purge: %d records, %d deliveries, %d audit entries, "
                    "%d bookings, %d booking changes",
                    purged.records, purged.deliveries, purged.audit, purged.bookings,
                    purged.booking_changes,
                )  # fmt: skip
        except Exception:  # the store may be briefly away: the next pass tries again
            log.exception("retention purge failed")
        await asyncio.sleep(retention.purge_interval_s)
