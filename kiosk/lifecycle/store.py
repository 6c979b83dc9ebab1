"""Durable storage of the lifecycle: current state, transition log, sessions."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

from kiosk.db import Transaction, connect
from kiosk.lifecycle.states import State

SCHEMA = """
CREATE TABLE IF NOT EXISTS lifecycle (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    since TEXT NOT NULL,
    session_id TEXT
);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    session_id TEXT
);
-- One row per patient session. No patient identity here: a session is a booth use.
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    instruments_used TEXT NOT NULL DEFAULT '[]',
    disinfected_at TEXT,
    disinfection_ref TEXT
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (disinfected_at) WHERE disinfected_at IS NULL;
"""


@dataclasses.dataclass(frozen=True)
class SessionRecord:
    id: str
    started_at: datetime
    ended_at: datetime | None
    instruments_used: tuple[str, ...]
    disinfected_at: datetime | None
    disinfection_ref: str | None


@dataclasses.dataclass(frozen=True)
class StoredState:
    state: State
    since: datetime
    session_id: str | None


class LifecycleStore:
    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.conn = connect(path)
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def load(self) -> StoredState | None:
        row = self.conn.execute("SELECT state, since, session_id FROM lifecycle").fetchone()
        if row is None:
            return None
        return StoredState(
            State(row["state"]), datetime.fromisoformat(row["since"]), row["session_id"]
        )

    def write_transition(
        self,
        previous: State | None,
        state: State,
        at: datetime,
        reason: str,
        session_id: str | None,
        *,
        open_session: bool = False,
    ) -> None:
        """Commits the new state (and the new session, when one opens) in one transaction."""
        with Transaction(self.conn) as c:
            if open_session:
                assert session_id is not None
                c.execute(
                    "INSERT INTO sessions (id, started_at) VALUES (?, ?)",
                    (session_id, at.isoformat()),
                )
            c.execute(
                "INSERT INTO lifecycle (id, state, since, session_id) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET state = excluded.state, since = excluded.since, "
                "session_id = excluded.session_id",
                (state.value, at.isoformat(), session_id),
            )
            c.execute(
                "INSERT INTO transitions (at, from_state, to_state, reason, session_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (at.isoformat(), (previous or state).value, state.value, reason, session_id),
            )
            if session_id is not None and state in (State.AWAITING_DISINFECTION,):
                c.execute(
                    "UPDATE sessions SET ended_at = COALESCE(ended_at, ?) WHERE id = ?",
                    (at.isoformat(), session_id),
                )

    @staticmethod
    def new_session_id() -> str:
        return uuid.uuid4().hex

    def undisinfected_session(self) -> str | None:
        """The session whose disinfection is not logged yet, if any (invariant 1)."""
        row = self.conn.execute(
            "SELECT id FROM sessions WHERE disinfected_at IS NULL ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row["id"])

    def session(self, session_id: str) -> SessionRecord | None:
        row = self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        return SessionRecord(
            id=row["id"],
            started_at=datetime.fromisoformat(row["started_at"]),
            ended_at=_dt(row["ended_at"]),
            instruments_used=tuple(json.loads(row["instruments_used"])),
            disinfected_at=_dt(row["disinfected_at"]),
            disinfection_ref=row["disinfection_ref"],
        )

    def record_instrument_used(self, session_id: str, instrument: str) -> None:
        with Transaction(self.conn) as c:
            row = c.execute(
                "SELECT instruments_used FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return
            used = json.loads(row["instruments_used"])
            if instrument not in used:
                used.append(instrument)
                c.execute(
                    "UPDATE sessions SET instruments_used = ? WHERE id = ?",
                    (json.dumps(used), session_id),
                )

    @staticmethod
    def mark_disinfected(conn: sqlite3.Connection, session_id: str, ref: str, at: datetime) -> None:
        """Inside the caller's transaction (the hygiene log's), so that the log entry and
        the release of the cabin commit together or not at all."""
        cur = conn.execute(
            "UPDATE sessions SET disinfected_at = ?, disinfection_ref = ? "
            "WHERE id = ? AND disinfected_at IS NULL",
            (at.isoformat(), ref, session_id),
        )
        if cur.rowcount != 1:
            raise LookupError(f"no session {session_id} awaiting disinfection")

    def purge_sessions(self, older_than: datetime) -> int:
        """Deletes disinfected sessions that ended before ``older_than`` (retention)."""
        with Transaction(self.conn) as c:
            return c.execute(
                "DELETE FROM sessions WHERE disinfected_at IS NOT NULL AND ended_at < ?",
                (older_than.isoformat(),),
            ).rowcount

    def purge_transitions(self, older_than: datetime) -> int:
        """Deletes the transitions logged before ``older_than`` that belong to no session
        still kept (retention.sessions_days, as the sessions): the log of a cabin that
        runs for years stays bounded. Those of an open session stay. A cabin with a hub
        copied each to its outbox as it was written (kiosk/hub_link/reporter.py)."""
        with Transaction(self.conn) as c:
            return c.execute(
                "DELETE FROM transitions WHERE at < ? AND (session_id IS NULL "
                "OR session_id NOT IN (SELECT id FROM sessions))",
                (older_than.isoformat(),),
            ).rowcount

    def transitions(self, limit: int = 100) -> list[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM transitions ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
