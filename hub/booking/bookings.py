"""Bookings in the store: book a slot, cancel, read a site's day.

Every change takes the site's row ``FOR UPDATE`` first, so that a site's bookings are
decided one at a time (two people booking the last place of a slot: one gets it) and
its ``booking_changes`` ids are taken in commit order on PostgreSQL too (SQLite's
IMMEDIATE transactions serialise writers anyway). The booking, its feed row and its
audit entry are written in one transaction; the caller publishes the change once it is
committed. The audit entry names the booking and the site, never the patient."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.auth.roles import serves_site
from hub.booking.errors import (
    AlreadyCancelled,
    BookingError,
    BookingNotFound,
    BookingOver,
    SlotUnavailable,
)
from hub.booking.form import BookingIn
from hub.booking.identity import identity_of, practitioner_of
from hub.booking.slots import (
    HORIZON,
    Slot,
    day_bounds,
    offered,
    slot_starting,
    within_horizon,
)
from hub.settings import SiteConfig
from hub.store.models import Booking, BookingChange, Cabin, Site

# The cabin takes a code from this long before its slot until this long after its end
# (kiosk/appointments.py, EARLY_ARRIVAL and LATE_ARRIVAL): two live bookings of a site
# whose arrival windows overlap must not share a code.
ARRIVAL_MARGIN = timedelta(minutes=30)
CODE_DIGITS = 6
# Draws before giving up on a free code: with a million codes and at most a few hundred
# taken around one slot, a second draw is already rare.
CODE_DRAWS = 100


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who books or cancels: a coordinator's session or a platform's token."""

    name: str  # username or token name, as the audit names them
    role: str
    sites: frozenset[str]
    client: str
    via: str  # "session" or "token"

    def serves(self, site_code: str) -> bool:
        return serves_site(set(self.sites), site_code)


async def lock_site(session: AsyncSession, site_code: str) -> None:
    row = await session.scalar(select(Site).where(Site.code == site_code).with_for_update())
    if row is None:
        raise BookingNotFound(f"Site {site_code} inconnu du hub.")


async def capacity(session: AsyncSession, site_code: str) -> int:
    """Patients a slot takes: the site's enrolled cabins still in service, at least 1
    (a site whose cabin is being installed is booked for one)."""
    enrolled = await session.scalar(
        select(func.count())
        .select_from(Cabin)
        .where(
            Cabin.site_code == site_code,
            Cabin.enrolled_at.is_not(None),
            Cabin.credential_hash.is_not(None),
            Cabin.revoked_at.is_(None),
        )
    )
    return max(1, int(enrolled or 0))


async def booked_counts(
    session: AsyncSession, site_code: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Live bookings per slot start in [start, end)."""
    rows = await session.execute(
        select(Booking.slot_start, func.count())
        .where(
            Booking.site_code == site_code,
            Booking.cancelled_at.is_(None),
            Booking.slot_start >= start,
            Booking.slot_start < end,
        )
        .group_by(Booking.slot_start)
    )
    return {slot_start: int(count) for slot_start, count in rows.all()}


async def day_slots(
    session: AsyncSession, site: SiteConfig, day: date, now: datetime
) -> list[Slot]:
    start, end = day_bounds(site, day)
    counts = await booked_counts(session, site.code, start, end)
    return offered(site, day, now, await capacity(session, site.code), counts)


async def day_bookings(session: AsyncSession, site: SiteConfig, day: date) -> list[Booking]:
    """The site's bookings of a local day, cancelled ones included, in slot order."""
    start, end = day_bounds(site, day)
    rows = await session.scalars(
        select(Booking)
        .where(Booking.site_code == site.code, Booking.slot_start >= start)
        .where(Booking.slot_start < end)
        .order_by(Booking.slot_start, Booking.created_at)
    )
    return list(rows.all())


def _when(site: SiteConfig, at: datetime) -> str:
    local = at.astimezone(site.hours.zone)
    return f"le {local:%d/%m/%Y} à {local:%H:%M}"


async def create(
    session: AsyncSession, site: SiteConfig, request: BookingIn, actor: Actor, now: datetime
) -> Booking:
    """Books the slot of ``request`` (already checked field by field), or refuses with
    SlotUnavailable. The caller has checked that ``actor`` serves the site."""
    await lock_site(session, site.code)
    slot = slot_starting(site, request.start)
    if slot is None:
        raise SlotUnavailable(
            "outside_hours",
            f"Pas de créneau {_when(site, request.start)} : le site est fermé à cette heure-là "
            f"ou ses créneaux commencent à une autre heure.",
        )
    if slot.start <= now:
        raise SlotUnavailable("past", f"Le créneau {_when(site, slot.start)} est passé.")
    if not within_horizon(site, slot.start.astimezone(site.hours.zone).date(), now):
        raise SlotUnavailable(
            "too_far",
            f"Ce créneau est trop loin : les rendez-vous se prennent {HORIZON.days} jours "
            "à l'avance au plus.",
        )
    taken = (await booked_counts(session, site.code, slot.start, slot.end)).get(slot.start, 0)
    if taken >= await capacity(session, site.code):
        raise SlotUnavailable(
            "full", f"Le créneau {_when(site, slot.start)} est complet : choisissez-en un autre."
        )
    booking = Booking(
        id=uuid.uuid4().hex,
        site_code=site.code,
        slot_start=slot.start,
        slot_end=slot.end,
        family_name=request.family_name,
        given_name=request.given_name,
        birth_date=request.birth_date,
        sex=request.sex,
        phone=request.phone,
        reason=request.reason,
        # Checked by parse_booking: they hold together.
        identity=identity_of(request.patient()),
        general_practitioner=practitioner_of(request.general_practitioner()),
        code=await _free_code(session, site.code, slot.start, slot.end),
        created_at=now,
        created_by=actor.name[:64],
        cancelled_at=None,
        cancelled_by=None,
        checked_in_at=None,
    )
    session.add(booking)
    await session.flush()  # the feed row refers to it
    session.add(BookingChange(booking_id=booking.id, site_code=site.code, at=now))
    audit.record(
        session, at=now, actor=actor.name, role=actor.role, action="booking_create",
        target=booking.id, client=actor.client, site=site.code, via=actor.via,
    )  # fmt: skip
    return booking


async def _free_code(session: AsyncSession, site_code: str, start: datetime, end: datetime) -> str:
    reach = 2 * ARRIVAL_MARGIN  # both windows are widened by the margin
    taken = set(
        await session.scalars(
            select(Booking.code).where(
                Booking.site_code == site_code,
                Booking.cancelled_at.is_(None),
                Booking.slot_start <= end + reach,
                Booking.slot_end >= start - reach,
            )
        )
    )
    for _ in range(CODE_DRAWS):
        code = draw_code()
        if code not in taken:
            return code
    raise BookingError("Aucun code libre pour ce créneau : réessayez.")


def draw_code() -> str:
    """A random code of CODE_DIGITS digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


async def site_of_booking(session: AsyncSession, booking_id: str) -> str:
    site_code = await session.scalar(select(Booking.site_code).where(Booking.id == booking_id))
    if site_code is None:
        raise BookingNotFound("Rendez-vous introuvable.")
    return site_code


async def cancel(
    session: AsyncSession, site: SiteConfig, booking_id: str, actor: Actor, now: datetime
) -> Booking:
    """Cancels a booking of ``site`` that has not begun; the cabins get the cancellation."""
    await lock_site(session, site.code)
    booking = await session.get(Booking, booking_id)
    if booking is None or booking.site_code != site.code:
        raise BookingNotFound("Rendez-vous introuvable.")
    if booking.cancelled_at is not None:
        raise AlreadyCancelled("Ce rendez-vous est déjà annulé.")
    if booking.slot_start <= now:
        raise BookingOver(
            f"Le rendez-vous {_when(site, booking.slot_start)} a commencé ou est passé : "
            "il ne s'annule plus."
        )
    booking.cancelled_at = now
    booking.cancelled_by = actor.name[:64]
    session.add(BookingChange(booking_id=booking.id, site_code=site.code, at=now))
    audit.record(
        session, at=now, actor=actor.name, role=actor.role, action="booking_cancel",
        target=booking.id, client=actor.client, site=site.code, via=actor.via,
    )  # fmt: skip
    return booking


def booking_json(booking: Booking, site: SiteConfig) -> dict[str, object]:
    zone = site.hours.zone
    if booking.cancelled_at is not None:
        status = "cancelled"
    elif booking.checked_in_at is not None:
        status = "checked_in"
    else:
        status = "booked"
    return {
        "id": booking.id,
        "site": booking.site_code,
        "start": booking.slot_start.astimezone(zone).isoformat(),
        "end": booking.slot_end.astimezone(zone).isoformat(),
        "code": booking.code,
        "status": status,
        "family_name": booking.family_name,
        "given_name": booking.given_name,
        "birth_date": booking.birth_date.isoformat(),
        "sex": booking.sex,
        "phone": booking.phone,
        "reason": booking.reason,
        "identity": booking.identity or None,
        "general_practitioner": booking.general_practitioner or None,
        "created_at": booking.created_at.isoformat(),
        "created_by": booking.created_by,
        "cancelled_at": booking.cancelled_at.isoformat() if booking.cancelled_at else None,
        "cancelled_by": booking.cancelled_by,
    }


def slot_json(slot: Slot, site: SiteConfig) -> dict[str, object]:
    zone = site.hours.zone
    return {
        "start": slot.start.astimezone(zone).isoformat(),
        "end": slot.end.astimezone(zone).isoformat(),
        "capacity": slot.capacity,
        "booked": slot.booked,
        "free": slot.free,
        "full": slot.full,
    }
