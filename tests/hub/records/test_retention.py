"""The retention purge ([records.retention]): a record past its retention goes with its
deliveries, a younger one stays, a record never completed goes by its start; audit
entries and bookings (with their feed rows) by their own retention; what the purge did is
audited by counts; the hub's periodic job runs it."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC

from sqlalchemy import func, select

from hub.records.retention import Purged, purge, purge_loop
from hub.store.models import (
    AuditEntry,
    Booking,
    BookingChange,
    Consultation,
    ConsultationRecordRow,
    RecordDelivery,
)
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.world import (
    World,
    cabin_part,
    completed_record,
    open_consultation,
    receive_part,
)
from tests.polling import until

RETENTION = """
[records.fhir]
endpoint = "http://127.0.0.1:9/fhir"
[records.retention]
records_days = 30
audit_days = 35
bookings_days = 10
purge_interval_s = 0.05
"""
NOW = dt.datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
OLD = dt.datetime(2026, 11, 23, 10, 27, tzinfo=UTC)  # 39 days before NOW
YOUNG = dt.datetime(2026, 12, 20, 9, 0, tzinfo=UTC)  # 12 days


async def add_booking(world: World, slot_end: dt.datetime) -> str:
    async with world.db.transaction() as s:
        booking = Booking(
            id=uuid.uuid4().hex, site_code="NAN231", slot_start=slot_end - dt.timedelta(minutes=30),
            slot_end=slot_end, family_name="Dupont", given_name="Hélène",
            birth_date=dt.date(1948, 3, 2), sex="F", phone=None, reason="Toux", code="123456",
            created_at=slot_end - dt.timedelta(days=2), created_by="coordinator",
            cancelled_at=None, cancelled_by=None, checked_in_at=None, identity=None,
            general_practitioner=None,
        )  # fmt: skip
        s.add(booking)
        await s.flush()
        s.add(BookingChange(booking_id=booking.id, site_code="NAN231", at=booking.created_at))
    return booking.id


async def counts(world: World) -> dict[str, object]:
    async with world.db.read() as s:
        return {
            "records": set(await s.scalars(select(ConsultationRecordRow.consultation_id))),
            "deliveries": set(await s.scalars(select(RecordDelivery.consultation_id))),
            "bookings": set(await s.scalars(select(Booking.id))),
            "changes": set(await s.scalars(select(BookingChange.booking_id))),
            "consultations": await s.scalar(select(func.count()).select_from(Consultation)),
            "oldest_audit": await s.scalar(select(func.min(AuditEntry.at))),
        }


async def fill(world: World) -> tuple[str, str, str, str, str]:
    old = await completed_record(world, session_id="s-old", at=OLD)
    young = await completed_record(world, session_id="s-young", at=YOUNG)
    # A cabin part that came, a report never signed: goes by the consultation's start.
    unsigned = await open_consultation(world.db, session_id="s-unsigned")
    part = cabin_part(unsigned, "s-unsigned")
    await receive_part(world, part, OLD)
    past = await add_booking(world, NOW - dt.timedelta(days=17))
    recent = await add_booking(world, NOW - dt.timedelta(days=3))
    return old, young, unsigned, past, recent


async def test_the_purge_removes_what_is_past_its_retention(world_with: OpenWorld) -> None:
    world = await world_with(RETENTION)
    old, young, unsigned, _, recent = await fill(world)
    before = await counts(world)
    assert before["records"] == {old, young, unsigned}
    assert before["deliveries"] == {old, young}  # fhir and print each
    assert before["oldest_audit"] == OLD

    async with world.db.transaction() as s:
        purged = await purge(s, NOW, world.settings.records.retention)
    after = await counts(world)
    assert after["records"] == {young}
    assert after["deliveries"] == {young}
    assert after["bookings"] == after["changes"] == {recent}
    assert after["consultations"] == before["consultations"] == 3  # ids and times only
    async with world.db.read() as s:
        ats = list(await s.scalars(select(AuditEntry.at)))
    cutoff = NOW - dt.timedelta(days=35)
    assert ats and all(at >= cutoff for at in ats)
    assert purged.records == 2 and purged.deliveries == 2
    assert (purged.bookings, purged.booking_changes) == (1, 1)
    assert purged.audit >= 4  # the old record's: received, signed, completed; the unsigned one's
    async with world.db.read() as s:
        [entry] = await s.scalars(select(AuditEntry).where(AuditEntry.action == "retention_purge"))
    assert entry.detail == {
        "records": 2, "deliveries": 2, "audit_entries": purged.audit, "bookings": 1,
        "booking_changes": 1,
    }  # fmt: skip

    async with world.db.transaction() as s:  # nothing more to do
        assert await purge(s, NOW, world.settings.records.retention) == Purged()


async def test_the_hubs_purge_job_runs_it(world_with: OpenWorld) -> None:
    world = await world_with(RETENTION)
    _, young, *_ = await fill(world)
    ctx = world.ctx(NOW)
    ctx.tasks.spawn(purge_loop(ctx), "records-retention")
    try:

        async def purged() -> bool:
            return (await counts(world))["records"] == {young}

        done: bool = await until(purged, what="the old records purged")
        assert done
    finally:
        await ctx.tasks.cancel_all(5.0)
