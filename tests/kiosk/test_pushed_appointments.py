"""The cabin's store of the appointments the hub pushes: upserts and cancellations applied
with the feed's cursor in one transaction, the sex the prescription needs, a checked-in
booking that stays used when the hub sends it again, malformed pushes refused, old
databases upgraded, and the purge after the slot."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.shared.wire import AppointmentChange
from kiosk.appointments import AppointmentStore

NOW = datetime.now(UTC)
BOOKING = {
    "id": "b1",
    "action": "upsert",
    "slot_start": NOW - timedelta(minutes=5),
    "slot_end": NOW + timedelta(minutes=25),
    "family_name": "Dupont",
    "given_name": "Hélène",
    "birth_date": "1948-03-02",
    "code": "123456",
}


def change(**fields: object) -> AppointmentChange:
    return AppointmentChange.model_validate({**BOOKING, **fields})


@pytest.fixture
def store(tmp_path: Path) -> AppointmentStore:
    return AppointmentStore(tmp_path / "db.sqlite3")


def test_upsert_then_cancel_with_the_cursor(store: AppointmentStore) -> None:
    try:
        assert store.cursor == 0
        store.apply([change(sex="F")], cursor=7)
        found = store.find_by_code("123456")
        assert found is not None and found.sex == "F" and found.id == "b1"
        assert store.cursor == 7
        # Moved by the coordinator: the same booking, a new slot and code.
        later = NOW + timedelta(hours=3)
        store.apply(
            [change(code="654321", slot_start=later, slot_end=later + timedelta(minutes=30))], 8
        )
        assert store.find_by_code("123456") is None
        assert store.find_by_code("654321", now=later) is not None
        store.apply([AppointmentChange(id="b1", action="cancel")], 9)
        assert store.get("b1") is None and store.cursor == 9
        store.apply([], 3)  # an old page again never moves the cursor back
        assert store.cursor == 9
    finally:
        store.close()


def test_a_used_booking_stays_used_when_pushed_again(store: AppointmentStore) -> None:
    try:
        store.apply([change()], 1)
        store.mark_used("b1")
        store.apply([change(reason="toux")], 2)  # a resend after a reconnect
        assert store.find_by_code("123456") is None
        assert store.get("b1") is not None
    finally:
        store.close()


@pytest.mark.parametrize(
    "fields",
    [
        {"sex": "female"},
        {"code": "12ab56"},
        {"code": None},
        {"slot_end": NOW - timedelta(hours=1)},
        {"unexpected": 1},
    ],
)
def test_malformed_pushes_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        change(**fields)


def test_a_database_from_before_the_column_gains_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE appointments (id TEXT PRIMARY KEY, code TEXT NOT NULL, "
        "slot_start TEXT NOT NULL, slot_end TEXT NOT NULL, family_name TEXT NOT NULL, "
        "given_name TEXT NOT NULL, birth_date TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', "
        "created_at TEXT NOT NULL, used_at TEXT)"
    )
    conn.commit()
    conn.close()
    store = AppointmentStore(path)
    try:
        store.apply([change(sex="M")], 1)
        assert store.find_by_code("123456").sex == "M"  # type: ignore[union-attr]
    finally:
        store.close()


def test_appointments_are_purged_after_their_slot(store: AppointmentStore) -> None:
    try:
        old = NOW - timedelta(days=10)
        store.apply([change(id="old", slot_start=old, slot_end=old + timedelta(minutes=30))], 1)
        store.apply([change()], 2)
        assert store.purge(NOW - timedelta(days=2)) == 1
        assert store.get("old") is None and store.get("b1") is not None
    finally:
        store.close()
