"""Opening hours of the real sites, exceptions, holidays, and closing with a patient inside."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.settings import load_hub_settings
from hub.shared.hours import HoursException, OpeningHours
from kiosk.bus import EventBus
from kiosk.db import Transaction
from kiosk.hours_keeper import apply_hours
from kiosk.lifecycle import Lifecycle, LifecycleStore, State

CONFIG = Path(__file__).resolve().parents[2] / "config"


def site_hours(code: str) -> OpeningHours:
    """A seed-001 site's real hours, as the hub keeps them (config/hub.toml)."""
    site = load_hub_settings(CONFIG / "hub.toml").site(code)
    assert site is not None
    return site.hours


PARIS = dt.timezone(dt.timedelta(hours=1))  # November: UTC+1


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=PARIS)


def test_nangis_timetable_from_the_seed() -> None:
    hours = site_hours("NAN231")
    # Monday 2026-11-23: 09:00-12:00 and 13:30-17:00.
    assert not hours.is_open(at("2026-11-23", "08:59"))
    assert hours.is_open(at("2026-11-23", "09:00"))
    assert not hours.is_open(at("2026-11-23", "12:00"))
    assert not hours.is_open(at("2026-11-23", "13:29"))
    assert hours.is_open(at("2026-11-23", "16:59"))
    assert not hours.is_open(at("2026-11-23", "17:00"))
    # Tuesday closed, Wednesday morning only.
    assert not hours.is_open(at("2026-11-24", "10:00"))
    assert hours.is_open(at("2026-11-25", "11:00"))
    assert not hours.is_open(at("2026-11-25", "14:00"))


def test_chelles_is_closed_thursday_afternoon() -> None:
    hours = site_hours("CHE132")
    assert hours.is_open(at("2026-11-26", "12:15"))  # Thursday morning until 12:30
    assert not hours.is_open(at("2026-11-26", "14:00"))
    assert hours.is_open(at("2026-11-27", "14:00"))  # Friday afternoon


def test_moret_weekdays_and_a_french_public_holiday() -> None:
    hours = site_hours("MSL123")
    assert hours.is_open(at("2026-11-10", "10:00"))
    # Wednesday 11 November 2026 is Armistice day.
    assert not hours.is_open(at("2026-11-11", "10:00"))
    assert hours.holiday_name(dt.date(2026, 11, 11)) is not None
    assert not hours.is_open(at("2026-11-28", "10:00"))  # Saturday


def test_exception_days_override_the_timetable() -> None:
    base = site_hours("NAN231")
    hours = OpeningHours(
        timezone=base.timezone,
        weekly=base.weekly,
        exceptions=[
            HoursException(date=dt.date(2026, 11, 23), label="Fermeture exceptionnelle"),
            HoursException(date=dt.date(2026, 11, 24), hours=["14:00-16:00"], label="Permanence"),
        ],
    )
    assert not hours.is_open(at("2026-11-23", "10:00"))  # a Monday, closed by exception
    assert hours.is_open(at("2026-11-24", "15:00"))  # a Tuesday, opened by exception
    assert not hours.is_open(at("2026-11-24", "10:00"))
    assert hours.holiday_name(dt.date(2026, 11, 23)) == "Fermeture exceptionnelle"


def test_next_change_finds_the_next_opening() -> None:
    hours = site_hours("NAN231")
    nxt = hours.next_change(at("2026-11-23", "12:10"))
    assert nxt == at("2026-11-23", "13:30")
    after_close = hours.next_change(at("2026-11-23", "17:30"))
    assert after_close == at("2026-11-25", "09:00")  # Tuesday closed


def test_a_consultation_past_closing_time_is_never_cut(tmp_path: Path) -> None:
    hours = site_hours("NAN231")
    now = [at("2026-11-23", "16:40")]
    lc = Lifecycle(
        LifecycleStore(tmp_path / "db"), EventBus(), is_open=hours.is_open, clock=lambda: now[0]
    )
    assert lc.state is State.IDLE
    for target in (State.CHECK_IN, State.WAITING, State.IN_CONSULTATION):
        lc.transition(target, "patient")
    now[0] = at("2026-11-23", "17:05")
    assert apply_hours(lc, hours, now[0]) is None
    assert lc.state is State.IN_CONSULTATION
    for target in (State.CHECKOUT, State.AWAITING_DISINFECTION, State.CLEANING):
        lc.transition(target, "end")
    assert apply_hours(lc, hours, now[0]) is None  # cleaning is not cut either
    session = lc.store.undisinfected_session()
    assert session is not None
    with Transaction(lc.store.conn) as conn:
        LifecycleStore.mark_disinfected(conn, session, "entry", now[0])
    # Back to idle after closing time: the keeper closes the cabin.
    lc.transition(State.CLOSED, "cleaned after hours")
    assert lc.state is State.CLOSED
    now[0] = at("2026-11-25", "09:00")
    assert apply_hours(lc, hours, now[0]) is State.IDLE


def test_idle_closes_at_closing_time(tmp_path: Path) -> None:
    hours = site_hours("NAN231")
    now = [at("2026-11-23", "11:59")]
    lc = Lifecycle(
        LifecycleStore(tmp_path / "db"), EventBus(), is_open=hours.is_open, clock=lambda: now[0]
    )
    assert apply_hours(lc, hours, now[0]) is None
    now[0] = at("2026-11-23", "12:00")
    assert apply_hours(lc, hours, now[0]) is State.CLOSED
    assert lc.locked
