"""The demo books like a coordinator would: the next free slot of a site, through the
hub's booking code (hub/booking/bookings.py), then the site's cabins get it pushed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.booking.bookings import Actor, create, day_slots
from hub.booking.form import parse_booking
from hub.booking.slots import local_day
from hub.cabins.gateway import BOOKINGS_TOPIC
from hub.demo.people import Person
from hub.service import Hub

ACTOR = Actor(
    name="demo", role="coordinator", sites=frozenset({"*"}), client="kiosk demo", via="session"
)
DEMO_PHONE = "01 23 45 67 89"


class DemoBooker:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def book(self, site_code: str, person: Person) -> str:
        """Books ``person`` in the site's next free slot; the appointment code."""
        site = self.hub.settings.site(site_code)
        if site is None:
            raise LookupError(site_code)
        now = datetime.now(UTC)
        async with self.hub.db.transaction() as s:
            slots = []
            for days in range(3):
                day = local_day(site, now + timedelta(days=days))
                slots = [slot for slot in await day_slots(s, site, day, now) if not slot.full]
                if slots:
                    break
            if not slots:
                raise RuntimeError(f"no free slot at {site_code} in three days")
            request = parse_booking(
                {
                    "site": site_code,
                    "start": slots[0].start.isoformat(),
                    "family_name": person.family_name,
                    "given_name": person.given_name,
                    "birth_date": person.birth_date,
                    "phone": DEMO_PHONE,
                    "reason": person.reason,
                    "sex": person.sex,
                },
                local_day(site, now),
            )
            booking = await create(s, site, request, ACTOR, now)
            code = booking.code
        await self.hub.ctx.router.publish(BOOKINGS_TOPIC, {"site": site_code})
        return code
