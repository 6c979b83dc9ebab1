"""The parts of a consultation record, kept in the cabin's SQLite while the session runs.

A crash mid-session loses none of them: each is committed as it comes (the doctor
attached, a measurement, the report signed at the hub, the patient's answer about the
printed copy). What is kept is the least the record needs (minimal health data at rest),
and it goes when the record is handed to the hub (kiosk/record/handover.py), in the
transaction that queues it. The prescription is not copied here: the printer's store
keeps it (printer/store.py) and the handover reads it there.

Synchronous; one connection, used from the event loop (each write is a few ms)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.record import Observation, Practitioner, Report
from kiosk.db import Transaction, connect

# The patient's printed copy: not asked (yet); the checkout screen asked (a signed report
# is there); their answer, "asked" with the printer's document id.
CopyState = Literal["not_offered", "offered", "declined", "asked"]

M = TypeVar("M", Practitioner, Patient, GeneralPractitioner, Report)

SCHEMA = """
CREATE TABLE IF NOT EXISTS record_parts (
    session_id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    practitioner TEXT,
    patient TEXT,
    general_practitioner TEXT,
    ended_at TEXT,
    report TEXT,
    signed_at TEXT,
    copy TEXT NOT NULL DEFAULT 'not_offered'
        CHECK (copy IN ('not_offered', 'offered', 'declined', 'asked')),
    copy_document_id TEXT
);
-- Measurements of a session, kept from the first one (a doctor may attach after it).
CREATE TABLE IF NOT EXISTS record_observations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    observation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_observations_session ON record_observations (session_id);
"""


@dataclasses.dataclass(frozen=True)
class Parts:
    session_id: str
    consultation_id: str
    started_at: datetime
    practitioner: Practitioner | None
    patient: Patient | None
    general_practitioner: GeneralPractitioner | None
    ended_at: datetime | None
    report: Report | None
    signed_at: datetime | None
    copy: CopyState
    copy_document_id: str | None
    observations: tuple[Observation, ...]


class PartsStore:
    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        # Deleted parts are overwritten on disk, not only unlinked from the b-tree.
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def attached(
        self,
        session_id: str,
        consultation_id: str,
        at: datetime,
        practitioner: Practitioner | None,
        identity: tuple[Patient, GeneralPractitioner | None] | None,
    ) -> None:
        """The doctor attached: the first time opens the parts; a reload of the console
        (the same consultation) keeps its start; an identity known now fills a missing one.
        Another doctor taking the patient over (another consultation) takes the record,
        unless a report is signed already."""
        patient, gp = identity if identity is not None else (None, None)
        with Transaction(self.conn) as c:
            c.execute(
                "INSERT INTO record_parts (session_id, consultation_id, started_at,"
                " practitioner, patient, general_practitioner) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET"
                " consultation_id = CASE WHEN report IS NULL"
                " THEN excluded.consultation_id ELSE consultation_id END,"
                " practitioner = CASE WHEN report IS NULL"
                " THEN COALESCE(excluded.practitioner, practitioner) ELSE practitioner END,"
                " patient = COALESCE(patient, excluded.patient),"
                " general_practitioner = COALESCE(general_practitioner,"
                " excluded.general_practitioner)",
                (
                    session_id,
                    consultation_id,
                    at.isoformat(),
                    _json(practitioner),
                    _json(patient),
                    _json(gp),
                ),
            )

    def add_observations(self, session_id: str, observations: list[Observation]) -> None:
        with Transaction(self.conn) as c:
            c.executemany(
                "INSERT INTO record_observations (session_id, observation) VALUES (?, ?)",
                [(session_id, o.model_dump_json()) for o in observations],
            )

    def ended(self, session_id: str, at: datetime) -> None:
        """The consultation ended (checkout): the first end is kept."""
        with Transaction(self.conn) as c:
            c.execute(
                "UPDATE record_parts SET ended_at = COALESCE(ended_at, ?) WHERE session_id = ?",
                (at.isoformat(), session_id),
            )

    def signed(self, session_id: str, consultation_id: str, report: Report, at: datetime) -> bool:
        """The report the doctor signed (the same frame again after a console reload
        changes nothing); False when no parts are open for that consultation."""
        with Transaction(self.conn) as c:
            cur = c.execute(
                "UPDATE record_parts SET report = COALESCE(report, ?),"
                " signed_at = COALESCE(signed_at, ?)"
                " WHERE session_id = ? AND consultation_id = ?",
                (report.model_dump_json(), at.isoformat(), session_id, consultation_id),
            )
            return cur.rowcount == 1

    def offered(self, session_id: str) -> None:
        """The checkout screen asks the patient (once a signed report is there)."""
        with Transaction(self.conn) as c:
            c.execute(
                "UPDATE record_parts SET copy = 'offered'"
                " WHERE session_id = ? AND copy = 'not_offered' AND report IS NOT NULL",
                (session_id,),
            )

    def set_copy(self, session_id: str, copy: CopyState, document_id: str | None = None) -> None:
        with Transaction(self.conn) as c:
            c.execute(
                "UPDATE record_parts SET copy = ?, copy_document_id = ? WHERE session_id = ?",
                (copy, document_id, session_id),
            )

    def get(self, session_id: str) -> Parts | None:
        return read_parts(self.conn, session_id)

    def sessions(self) -> list[str]:
        """Every session with parts or measurements kept."""
        return sessions(self.conn)

    @staticmethod
    def delete(c: sqlite3.Connection, session_id: str) -> None:
        """Inside the caller's transaction (the handover's)."""
        c.execute("DELETE FROM record_observations WHERE session_id = ?", (session_id,))
        c.execute("DELETE FROM record_parts WHERE session_id = ?", (session_id,))


def sessions(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT session_id FROM record_parts UNION SELECT session_id FROM record_observations"
    ).fetchall()
    return [str(r[0]) for r in rows]


def read_parts(conn: sqlite3.Connection, session_id: str) -> Parts | None:
    """The parts of a session (inside a caller's transaction, or not); None when no doctor
    attached (its measurements alone are no record)."""
    row = conn.execute("SELECT * FROM record_parts WHERE session_id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    observations = conn.execute(
        "SELECT observation FROM record_observations WHERE session_id = ? ORDER BY seq",
        (session_id,),
    ).fetchall()
    return Parts(
        session_id=row["session_id"],
        consultation_id=row["consultation_id"],
        started_at=datetime.fromisoformat(row["started_at"]),
        practitioner=_model(Practitioner, row["practitioner"]),
        patient=_model(Patient, row["patient"]),
        general_practitioner=_model(GeneralPractitioner, row["general_practitioner"]),
        ended_at=_dt(row["ended_at"]),
        report=_model(Report, row["report"]),
        signed_at=_dt(row["signed_at"]),
        copy=row["copy"],
        copy_document_id=row["copy_document_id"],
        observations=tuple(Observation.model_validate_json(o[0]) for o in observations),
    )


def _json(model: Practitioner | Patient | GeneralPractitioner | None) -> str | None:
    return None if model is None else model.model_dump_json()


def _model(cls: type[M], text: str | None) -> M | None:
    return None if text is None else cls.model_validate(json.loads(text))


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
