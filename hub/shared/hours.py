"""Opening hours: a weekly timetable, French public holidays and dated exceptions."""

from __future__ import annotations

import datetime as dt
import itertools
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_range(text: str) -> tuple[dt.time, dt.time]:
    try:
        start_s, end_s = (part.strip() for part in text.split("-"))
        start, end = dt.time.fromisoformat(start_s), dt.time.fromisoformat(end_s)
    except ValueError:
        raise ValueError(f"{text!r} is not a time range like '09:00-12:30'") from None
    if start >= end:
        raise ValueError(f"{text!r}: the range must end after it starts")
    return start, end


def _check_range(text: str) -> str:
    _parse_range(text)
    return text


TimeRange = Annotated[str, AfterValidator(_check_range)]


def _check_ranges(ranges: list[str]) -> list[str]:
    parsed = sorted(_parse_range(r) for r in ranges)
    for (_, end), (start, _) in itertools.pairwise(parsed):
        if start < end:
            raise ValueError(f"time ranges overlap: {ranges}")
    return ranges


DayRanges = Annotated[list[TimeRange], AfterValidator(_check_ranges)]


class HoursException(BaseModel):
    """A dated change to the timetable: a closure (no hours) or special hours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    until: dt.date | None = Field(None, description="last day of a multi-day exception")
    hours: DayRanges = Field(default_factory=list, description="empty: closed that day")
    label: str = ""

    @model_validator(mode="after")
    def _until_after_date(self) -> HoursException:
        if self.until is not None and self.until < self.date:
            raise ValueError("'until' is before 'date'")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.date <= day <= (self.until or self.date)


class Weekly(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    monday: DayRanges = Field(default_factory=list)
    tuesday: DayRanges = Field(default_factory=list)
    wednesday: DayRanges = Field(default_factory=list)
    thursday: DayRanges = Field(default_factory=list)
    friday: DayRanges = Field(default_factory=list)
    saturday: DayRanges = Field(default_factory=list)
    sunday: DayRanges = Field(default_factory=list)


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Europe/Paris"
    always_open: bool = Field(False, description="ignore the timetable (demo, tests)")
    french_public_holidays: bool = Field(True, description="closed on French public holidays")
    weekly: Weekly = Field(default_factory=Weekly)
    exceptions: list[HoursException] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ranges_on(self, day: dt.date) -> list[tuple[dt.time, dt.time]]:
        """The opening ranges of a local calendar day, exceptions and holidays applied."""
        for exc in self.exceptions:
            if exc.covers(day):
                return sorted(_parse_range(r) for r in exc.hours)
        if self.french_public_holidays and day in _french_holidays(day.year):
            return []
        ranges: list[str] = getattr(self.weekly, WEEKDAYS[day.weekday()])
        return sorted(_parse_range(r) for r in ranges)

    def holiday_name(self, day: dt.date) -> str | None:
        for exc in self.exceptions:
            if exc.covers(day):
                return exc.label or None
        if self.french_public_holidays:
            name: str | None = _french_holidays(day.year).get(day)
            return name
        return None

    def is_open(self, when: dt.datetime) -> bool:
        if self.always_open:
            return True
        local = when.astimezone(self.zone)
        now = local.time()
        return any(start <= now < end for start, end in self.ranges_on(local.date()))

    def next_change(self, when: dt.datetime, horizon_days: int = 400) -> dt.datetime | None:
        """The next instant (aware) at which is_open() flips, or None if it never does."""
        if self.always_open:
            return None
        local = when.astimezone(self.zone)
        current = self.is_open(when)
        day = local.date()
        for offset in range(horizon_days):
            d = day + dt.timedelta(days=offset)
            for start, end in self.ranges_on(d):
                for edge in (start, end):
                    at = dt.datetime.combine(d, edge, tzinfo=self.zone)
                    if at > local and self.is_open(at) != current:
                        return at
            midnight = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), tzinfo=self.zone)
            if midnight > local and self.is_open(midnight) != current:
                return midnight
        return None


@lru_cache(maxsize=8)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year, language="fr")
