"""The appointments of the cabin's site, as the hub pushes them, and the code a patient
types to check in.

Booking happens at the hub (coordinator screen, booking API); the hub pushes each cabin
its site's bookings and cancellations (kiosk/hub_link), which ``apply`` stores with the
feed's cursor in one transaction, so that they check in even while the hub is
unreachable. Purged once their slot is over (invariant 3).

A booking may carry the patient's INS traits and their own GP (``identity`` and
``general_practitioner``: the JSON of hub.shared.ins's models, re-validated on reading);
check-in shows them to the patient to confirm."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.wire import AppointmentChange
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
    identity TEXT,
    general_practitioner TEXT,
    created_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX IF NOT EXISTS appointments_code ON appointments (code);
-- The hub's booking feed: the last change stored.
CREATE TABLE IF NOT EXISTS appointments_feed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);
"""

# A patient may arrive this early or late for a slot and still check in.
EARLY_ARRIVAL = timedelta(minutes=30)
LATE_ARRIVAL = timedelta(minutes=30)


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
    patient: Patient | None = dataclasses.field(default=None, repr=False)
    general_practitioner: GeneralPractitioner | None = dataclasses.field(default=None, repr=False)

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
            "patient": None if self.patient is None else self.patient.model_dump(mode="json"),
            "general_practitioner": (
                None
                if self.general_practitioner is None
                else self.general_practitioner.model_dump(mode="json")
            ),
            "used": self.used_at is not None,
        }


class AppointmentStore:
    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        self.conn.executescript(SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(appointments)")}
        # A database from before these columns.
        for column in ("sex", "identity", "general_practitioner"):
            if column not in columns:
                self.conn.execute(f"ALTER TABLE appointments ADD COLUMN {column} TEXT")

    def close(self) -> None:
        self.conn.close()

    @property
    def cursor(self) -> int:
        row = self.conn.execute("SELECT cursor FROM appointments_feed").fetchone()
        return 0 if row is None else int(row[0])

    def apply(self, changes: Sequence[AppointmentChange], cursor: int) -> None:
        """A page of the hub's feed, with its cursor, in one transaction. A booking the
        patient already checked in with keeps its ``used_at``."""
        with Transaction(self.conn) as c:
            for change in changes:
                if change.action == "cancel":
                    c.execute("DELETE FROM appointments WHERE id = ?", (change.id,))
                    continue
                # An upsert has all its fields (checked by AppointmentChange).
                assert change.slot_start and change.slot_end and change.birth_date
                c.execute(
                    "INSERT INTO appointments (id, code, slot_start, slot_end, family_name, "
                    "given_name, birth_date, reason, sex, identity, general_practitioner, "
                    "created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE "
                    "SET code = excluded.code, slot_start = excluded.slot_start, "
                    "slot_end = excluded.slot_end, family_name = excluded.family_name, "
                    "given_name = excluded.given_name, birth_date = excluded.birth_date, "
                    "reason = excluded.reason, sex = excluded.sex, "
                    "identity = excluded.identity, "
                    "general_practitioner = excluded.general_practitioner",
                    (
                        change.id,
                        change.code,
                        _utc(change.slot_start),
                        _utc(change.slot_end),
                        change.family_name or "",
                        change.given_name or "",
                        change.birth_date.isoformat(),
                        change.reason,
                        change.sex,
                        _json(change.patient),
                        _json(change.general_practitioner),
                        datetime.now(UTC).isoformat(),
                    ),
                )
            c.execute(
                "INSERT INTO appointments_feed (id, cursor) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET cursor = max(cursor, excluded.cursor)",
                (cursor,),
            )

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


def _json(model: Patient | GeneralPractitioner | None) -> str | None:
    return None if model is None else model.model_dump_json()


def _patient(text: str | None) -> Patient | None:
    """The stored INS traits; None when absent or no longer valid (e.g. a birth date
    check that changed): the booking still checks in by its names and birth date."""
    if text is None:
        return None
    try:
        return Patient.model_validate_json(text)
    except ValueError:
        return None


def _practitioner(text: str | None) -> GeneralPractitioner | None:
    if text is None:
        return None
    try:
        return GeneralPractitioner.model_validate_json(text)
    except ValueError:
        return None


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
        patient=_patient(r["identity"]),
        general_practitioner=_practitioner(r["general_practitioner"]),
    )
