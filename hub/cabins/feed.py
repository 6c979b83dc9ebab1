"""The appointments a cabin must know, as a feed it follows with a cursor.

Every booking change (created, moved, cancelled) adds a row to ``booking_changes`` in
the booking's own transaction. A cabin says the last change it stored (its cursor); the
hub sends the newer changes of its site, a page at a time, as the bookings now stand.
Changes of bookings already over are skipped (the cursor still moves past them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.booking.identity import gp_of, patient_of
from hub.shared.wire import MAX_APPOINTMENTS_PER_FRAME, AppointmentChange, Appointments
from hub.store.models import Booking, BookingChange

# A booking whose slot ended this long ago is of no use to a cabin any more.
PAST = timedelta(hours=2)


async def next_page(
    session: AsyncSession, site_code: str, cursor: int, now: datetime
) -> Appointments | None:
    """The next changes after ``cursor``, or None when the cabin is up to date."""
    rows = (
        await session.execute(
            select(BookingChange.id, Booking)
            .join(Booking, Booking.id == BookingChange.booking_id)
            .where(BookingChange.site_code == site_code, BookingChange.id > cursor)
            .order_by(BookingChange.id)
            .limit(MAX_APPOINTMENTS_PER_FRAME)
        )
    ).all()
    if not rows:
        return None
    latest: dict[str, Booking] = {}
    for _change_id, booking in rows:
        latest.pop(booking.id, None)
        latest[booking.id] = booking  # the last change of a booking comes last
    changes = [change_of(b) for b in latest.values() if b.slot_end > now - PAST]
    return Appointments(type="appointments", changes=changes, cursor=int(rows[-1][0]))


def change_of(booking: Booking) -> AppointmentChange:
    if booking.cancelled_at is not None:
        return AppointmentChange(id=booking.id, action="cancel")
    return AppointmentChange(
        id=booking.id,
        action="upsert",
        code=booking.code,
        slot_start=booking.slot_start,
        slot_end=booking.slot_end,
        family_name=booking.family_name,
        given_name=booking.given_name,
        birth_date=booking.birth_date,
        sex=booking.sex if booking.sex in ("F", "M") else None,
        reason=booking.reason,
        patient=patient_of(booking),
        general_practitioner=gp_of(booking),
    )
