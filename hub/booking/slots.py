"""The bookable slots of a site: its opening hours cut by the consultation length.

A day's ranges come from ``OpeningHours.ranges_on`` (the weekly timetable, dated
exceptions, French public holidays) in the site's time zone. Each range is cut from its
start into slots of ``consultation_minutes``; a remainder too short for a consultation
is no slot. A site that is always open (demo, tests) has slots round the clock.

Times are aware and in UTC here, stepped in absolute time (a day with a clock change
has no missing or doubled slot); the site's zone is only for reading them. Pure
functions: no store, no clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from hub.settings import SiteConfig

# How far ahead a slot may be booked or asked for: a coordinator books weeks ahead,
# rarely months; this also bounds what one request can make the hub compute.
HORIZON = timedelta(days=180)


@dataclasses.dataclass(frozen=True)
class SlotTime:
    start: datetime  # aware, UTC
    end: datetime


@dataclasses.dataclass(frozen=True)
class Slot:
    """A slot as offered: how many patients it takes (the site's cabins) and has."""

    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def full(self) -> bool:
        return self.free == 0


def local_day(site: SiteConfig, when: datetime) -> date:
    return when.astimezone(site.hours.zone).date()


def day_bounds(site: SiteConfig, day: date) -> tuple[datetime, datetime]:
    """The local calendar day as [start, end) in UTC."""
    zone = site.hours.zone
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def slot_times(site: SiteConfig, day: date) -> list[SlotTime]:
    """Every slot of the site's local calendar day, booked or not, past or not."""
    hours = site.hours
    if hours.always_open:
        ranges = [day_bounds(site, day)]
    else:
        zone = hours.zone
        ranges = [
            (
                datetime.combine(day, opens, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, closes, tzinfo=zone).astimezone(UTC),
            )
            for opens, closes in hours.ranges_on(day)
        ]
    length = timedelta(minutes=site.consultation_minutes)
    slots: list[SlotTime] = []
    for start, end in ranges:
        at = start
        while at + length <= end:
            slots.append(SlotTime(at, at + length))
            at += length
    return slots


def slot_starting(site: SiteConfig, start: datetime) -> SlotTime | None:
    """The site's slot that begins exactly at ``start``, if there is one."""
    for slot in slot_times(site, local_day(site, start)):
        if slot.start == start:
            return slot
    return None


def offered(
    site: SiteConfig,
    day: date,
    now: datetime,
    capacity: int,
    booked: Mapping[datetime, int],
) -> list[Slot]:
    """The day's slots that have not begun, each with its bookings (full ones included)."""
    if not within_horizon(site, day, now):
        return []
    return [
        Slot(t.start, t.end, capacity, booked.get(t.start, 0))
        for t in slot_times(site, day)
        if t.start > now
    ]


def within_horizon(site: SiteConfig, day: date, now: datetime) -> bool:
    return day <= local_day(site, now + HORIZON)


def closed_reason(site: SiteConfig, day: date) -> str | None:
    """Why a day has no slot at all, in French, or None when it has some."""
    if slot_times(site, day):
        return None
    holiday = site.hours.holiday_name(day)
    if holiday:
        return f"Fermé ce jour : {holiday}."
    return "Pas de consultation ce jour-là."
