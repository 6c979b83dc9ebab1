"""Slots from the real sites' hours (config/hub.toml, seed 001): weekly ranges cut by the
consultation length, French public holidays and dated exceptions, the site's time zone;
past slots are not offered, full ones are shown full. Pure: no hub, no store."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.booking.slots import (
    HORIZON,
    closed_reason,
    offered,
    slot_starting,
    slot_times,
)
from hub.settings import SiteConfig, load_hub_settings
from hub.shared.hours import HoursException, OpeningHours

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hub.toml"
PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 3, 2)  # winter time, +01:00
WEDNESDAY = date(2026, 3, 4)
THURSDAY = date(2026, 3, 5)
EASTER_MONDAY = date(2026, 4, 6)
ASCENSION = date(2026, 5, 14)  # a Thursday
SUMMER_MONDAY = date(2026, 6, 1)  # +02:00


@pytest.fixture(scope="module")
def sites() -> dict[str, SiteConfig]:
    return {s.code: s for s in load_hub_settings(CONFIG).sites}


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def local_starts(site: SiteConfig, day: date) -> list[str]:
    return [f"{s.start.astimezone(PARIS):%H:%M}" for s in slot_times(site, day)]


def test_the_three_sites_of_seed_001(sites: dict[str, SiteConfig]) -> None:
    assert set(sites) == {"NAN231", "CHE132", "MSL123"}
    assert all(s.consultation_minutes == 30 for s in sites.values())


def test_nangis_monday_is_13_slots_morning_and_afternoon(sites: dict[str, SiteConfig]) -> None:
    starts = local_starts(sites["NAN231"], MONDAY)
    assert len(starts) == 13
    assert starts[:6] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert starts[6:] == ["13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]
    last = slot_times(sites["NAN231"], MONDAY)[-1]
    assert last.end == local(MONDAY, 17)  # the last slot ends at closing, not after
    lengths = {s.end - s.start for s in slot_times(sites["NAN231"], MONDAY)}
    assert lengths == {timedelta(minutes=30)}


def test_nangis_wednesday_is_the_morning_only(sites: dict[str, SiteConfig]) -> None:
    assert local_starts(sites["NAN231"], WEDNESDAY) == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
    ]  # fmt: skip


def test_nangis_is_closed_on_tuesday_and_on_easter_monday(sites: dict[str, SiteConfig]) -> None:
    nangis = sites["NAN231"]
    assert slot_times(nangis, MONDAY + timedelta(days=1)) == []
    assert slot_times(nangis, EASTER_MONDAY) == []
    assert closed_reason(nangis, EASTER_MONDAY) == "Fermé ce jour : Lundi de Pâques."
    assert closed_reason(nangis, MONDAY + timedelta(days=1)) == "Pas de consultation ce jour-là."
    assert closed_reason(nangis, MONDAY) is None
    # Every site closes on a public holiday, whatever its weekday.
    assert all(slot_times(s, ASCENSION) == [] for s in sites.values())


def test_chelles_thursday_is_the_morning_only(sites: dict[str, SiteConfig]) -> None:
    chelles = sites["CHE132"]
    starts = local_starts(chelles, THURSDAY)
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]
    # Other weekdays: 09:00-12:30 and 13:30-17:00.
    assert len(local_starts(chelles, MONDAY)) == 7 + 7
    assert "13:30" in local_starts(chelles, WEDNESDAY)


def test_moret_weekdays_and_weekend(sites: dict[str, SiteConfig]) -> None:
    moret = sites["MSL123"]
    for offset in range(5):
        assert len(slot_times(moret, MONDAY + timedelta(days=offset))) == 13
    assert slot_times(moret, MONDAY + timedelta(days=5)) == []
    assert slot_times(moret, MONDAY + timedelta(days=6)) == []


def test_slot_times_follow_the_sites_time_zone(sites: dict[str, SiteConfig]) -> None:
    winter = slot_times(sites["NAN231"], MONDAY)[0].start
    summer = slot_times(sites["NAN231"], SUMMER_MONDAY)[0].start
    assert winter == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert summer == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    # A site overseas: the same timetable is read in its own zone.
    cayenne = sites["NAN231"].model_copy(
        update={"hours": sites["NAN231"].hours.model_copy(update={"timezone": "America/Cayenne"})}
    )
    assert slot_times(cayenne, MONDAY)[0].start == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_dated_exception_closes_a_day_or_changes_its_hours(
    sites: dict[str, SiteConfig],
) -> None:
    nangis = sites["NAN231"]
    hours = nangis.hours.model_copy(
        update={
            "exceptions": [
                HoursException(date=MONDAY, label="Travaux"),
                HoursException(date=THURSDAY, hours=["14:00-15:00"]),
            ]
        }
    )
    changed = nangis.model_copy(update={"hours": hours})
    assert slot_times(changed, MONDAY) == []
    assert closed_reason(changed, MONDAY) == "Fermé ce jour : Travaux."
    assert local_starts(changed, THURSDAY) == ["14:00", "14:30"]


def test_a_range_is_cut_from_its_start_and_a_short_remainder_is_no_slot(
    sites: dict[str, SiteConfig],
) -> None:
    chelles_45 = sites["CHE132"].model_copy(update={"consultation_minutes": 45})
    # 09:00-12:30 is 3 h 30: four 45-minute slots, 45 minutes left over... then 13:30-17:00.
    assert local_starts(chelles_45, MONDAY) == [
        "09:00", "09:45", "10:30", "11:15", "13:30", "14:15", "15:00", "15:45",
    ]  # fmt: skip


def test_an_always_open_site_has_slots_round_the_clock(sites: dict[str, SiteConfig]) -> None:
    demo = sites["NAN231"].model_copy(update={"hours": OpeningHours(always_open=True)})
    assert len(slot_times(demo, MONDAY)) == 48
    # The day clocks go forward has 23 hours: 46 slots, none in the missing hour.
    spring = slot_times(demo, date(2026, 3, 29))
    assert len(spring) == 46
    assert all(b.start - a.start == timedelta(minutes=30) for a, b in itertools.pairwise(spring))


def test_only_slots_not_begun_are_offered_and_full_ones_show_full(
    sites: dict[str, SiteConfig],
) -> None:
    nangis = sites["NAN231"]
    now = local(MONDAY, 10, 10).astimezone(UTC)
    booked = {local(MONDAY, 10, 30).astimezone(UTC): 2, local(MONDAY, 11).astimezone(UTC): 1}
    slots = offered(nangis, MONDAY, now, capacity=2, booked=booked)
    assert [f"{s.start.astimezone(PARIS):%H:%M}" for s in slots][:3] == ["10:30", "11:00", "11:30"]
    assert len(slots) == 13 - 3
    first, second, third = slots[:3]
    assert (first.booked, first.free, first.full) == (2, 0, True)
    assert (second.booked, second.free, second.full) == (1, 1, False)
    assert (third.booked, third.free, third.full) == (0, 2, False)
    # A day already over offers nothing; a day past the horizon neither.
    assert offered(nangis, MONDAY - timedelta(days=7), now, 1, {}) == []
    far = MONDAY + HORIZON + timedelta(days=7)
    assert slot_times(nangis, far - timedelta(days=far.weekday())) != []
    assert offered(nangis, far - timedelta(days=far.weekday()), now, 1, {}) == []


def test_slot_starting_accepts_only_a_real_slot_start(sites: dict[str, SiteConfig]) -> None:
    nangis = sites["NAN231"]
    slot = slot_starting(nangis, local(MONDAY, 13, 30))
    assert slot is not None and slot.end == local(MONDAY, 14)
    assert slot_starting(nangis, local(MONDAY, 13, 45)) is None  # not on the grid
    assert slot_starting(nangis, local(MONDAY, 12, 30)) is None  # lunch break
    assert slot_starting(nangis, local(MONDAY, 17)) is None  # closing time
    assert slot_starting(nangis, local(EASTER_MONDAY, 9)) is None  # public holiday
    # The same instant written in UTC is the same slot.
    assert slot_starting(nangis, datetime(2026, 3, 2, 12, 30, tzinfo=UTC)) == slot
