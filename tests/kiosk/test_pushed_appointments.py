"""The patient's sex, booked with the appointment, reaches the doctor's prescription form
(a French prescription must state it; the touchscreen does not ask it)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.appointments import AppointmentIn, AppointmentStore

NOW = datetime.now(UTC)
BOOKING = {
    "slot_start": NOW - timedelta(minutes=5),
    "slot_end": NOW + timedelta(minutes=25),
    "family_name": "Dupont",
    "given_name": "Hélène",
    "birth_date": "1948-03-02",
    "code": "123456",
}


def test_sex_is_stored_and_read_back(tmp_path: Path) -> None:
    store = AppointmentStore(tmp_path / "db.sqlite3")
    try:
        added = store.add(AppointmentIn.model_validate({**BOOKING, "sex": "F"}))
        found = store.find_by_code("123456")
        assert found is not None and found.sex == "F" == added.sex
        assert found.to_json()["sex"] == "F"
        other = store.add(AppointmentIn.model_validate({**BOOKING, "code": "654321"}))
        assert other.sex is None and store.get(other.id).sex is None  # type: ignore[union-attr]
    finally:
        store.close()


def test_other_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="sex"):
        AppointmentIn.model_validate({**BOOKING, "sex": "female"})


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
        assert store.add(AppointmentIn.model_validate({**BOOKING, "sex": "M"})).sex == "M"
        assert store.find_by_code("123456").sex == "M"  # type: ignore[union-attr]
    finally:
        store.close()
