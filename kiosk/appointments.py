"""Appointments booked for the cabin, and the code a patient types to check in."""

from __future__ import annotations

import dataclasses
import secrets
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.db import Transaction, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS appointments (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    slot_start TEXT NOT NULL,
    slot_end TEXT NOT NULL,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    sex TEXT,
    created_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX IF NOT EXISTS appointments_code ON appointments (code);
"""

CODE_LENGTH = 6
# A patient may arrive this early or late for a slot and still check in.
EARLY_ARRIVAL = timedelta(minutes=30)
LATE_ARRIVAL = timedelta(minutes=30)


class AppointmentIn(BaseModel):
    """What the booking platform sends."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slot_start: datetime
    slot_end: datetime
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    reason: str = Field("", max_length=500)
    code: str | None = Field(None, pattern=r"^[0-9]{6}$", description="generated when absent")
    sex: Literal["F", "M"] | None = Field(
        None, description="F or M, as a prescription must state it (filled in for the doctor)"
    )

    @model_validator(mode="after")
    def _check(self) -> AppointmentIn:
        if self.slot_start.tzinfo is None or self.slot_end.tzinfo is None:
            raise ValueError("slot times need a UTC offset, e.g. 2026-11-23T09:00:00+01:00")
        if self.slot_end <= self.slot_start:
            raise ValueError("slot_end must be after slot_start")
        if self.birth_date > date.today():
            raise ValueError("birth_date is in the future")
        return self


@dataclasses.dataclass(frozen=True)
class Appointment:
    id: str
    code: str
    slot_start: datetime
    slot_end: datetime
    family_name: str
    given_name: str
    birth_date: date
    reason: str
    used_at: datetime | None
    sex: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "code": self.code,
            "slot_start": self.slot_start.isoformat(),
            "slot_end": self.slot_end.isoformat(),
            "family_name": self.family_name,
            "given_name": self.given_name,
            "birth_date": self.birth_date.isoformat(),
            "reason": self.reason,
            "sex": self.sex,
            "used": self.used_at is not None,
        }


class CodeTaken(ValueError):
    pass


class AppointmentStore:
    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        self.conn.executescript(SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(appointments)")}
        if "sex" not in columns:  # a database from before the column
            self.conn.execute("ALTER TABLE appointments ADD COLUMN sex TEXT")

    def close(self) -> None:
        self.conn.close()

    def add(self, data: AppointmentIn) -> Appointment:
        with Transaction(self.conn) as c:
            code = data.code
            if code is not None and self._active_code(c, code, data.slot_start, data.slot_end):
                raise CodeTaken(f"code {code} is already used by an overlapping appointment")
            while code is None or self._active_code(c, code, data.slot_start, data.slot_end):
                code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
            appt = Appointment(
                id=uuid.uuid4().hex,
                code=code,
                slot_start=data.slot_start,
                slot_end=data.slot_end,
                family_name=data.family_name,
                given_name=data.given_name,
                birth_date=data.birth_date,
                reason=data.reason,
                used_at=None,
                sex=data.sex,
            )
            c.execute(
                "INSERT INTO appointments (id, code, slot_start, slot_end, family_name, "
                "given_name, birth_date, reason, sex, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    appt.id,
                    appt.code,
                    _utc(appt.slot_start),
                    _utc(appt.slot_end),
                    appt.family_name,
                    appt.given_name,
                    appt.birth_date.isoformat(),
                    appt.reason,
                    appt.sex,
                    datetime.now(UTC).isoformat(),
                ),
            )
        return appt

    @staticmethod
    def _active_code(c: sqlite3.Connection, code: str, start: datetime, end: datetime) -> bool:
        row = c.execute(
            "SELECT 1 FROM appointments WHERE code = ? AND used_at IS NULL "
            "AND slot_start < ? AND slot_end > ?",
            (code, _utc(end + LATE_ARRIVAL), _utc(start - EARLY_ARRIVAL)),
        ).fetchone()
        return row is not None

    def list(self, since: datetime | None = None) -> list[Appointment]:
        since = since or datetime.now(UTC) - timedelta(days=1)
        rows = self.conn.execute(
            "SELECT * FROM appointments WHERE slot_end >= ? ORDER BY slot_start", (_utc(since),)
        ).fetchall()
        return [_row(r) for r in rows]

    def get(self, appointment_id: str) -> Appointment | None:
        row = self.conn.execute(
            "SELECT * FROM appointments WHERE id = ?", (appointment_id,)
        ).fetchone()
        return None if row is None else _row(row)

    def delete(self, appointment_id: str) -> bool:
        with Transaction(self.conn) as c:
            return (
                c.execute("DELETE FROM appointments WHERE id = ?", (appointment_id,)).rowcount == 1
            )

    def find_by_code(self, code: str, now: datetime | None = None) -> Appointment | None:
        """The unused appointment with this code whose slot is now (with the arrival margins)."""
        now = now or datetime.now(UTC)
        row = self.conn.execute(
            "SELECT * FROM appointments WHERE code = ? AND used_at IS NULL "
            "AND slot_start <= ? AND slot_end >= ? ORDER BY slot_start LIMIT 1",
            (code, _utc(now + EARLY_ARRIVAL), _utc(now - LATE_ARRIVAL)),
        ).fetchone()
        return None if row is None else _row(row)

    def mark_used(self, appointment_id: str, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with Transaction(self.conn) as c:
            c.execute(
                "UPDATE appointments SET used_at = ? WHERE id = ? AND used_at IS NULL",
                (now.isoformat(), appointment_id),
            )

    def purge(self, older_than: datetime) -> int:
        """Deletes appointments whose slot ended before ``older_than`` (invariant 3)."""
        with Transaction(self.conn) as c:
            return c.execute(
                "DELETE FROM appointments WHERE slot_end < ?", (_utc(older_than),)
            ).rowcount


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _row(r: sqlite3.Row) -> Appointment:
    return Appointment(
        id=r["id"],
        code=r["code"],
        slot_start=datetime.fromisoformat(r["slot_start"]),
        slot_end=datetime.fromisoformat(r["slot_end"]),
        family_name=r["family_name"],
        given_name=r["given_name"],
        birth_date=date.fromisoformat(r["birth_date"]),
        reason=r["reason"],
        used_at=None if r["used_at"] is None else datetime.fromisoformat(r["used_at"]),
        sex=r["sex"],
    )
