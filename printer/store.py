"""Printed documents in the cabin's SQLite database (invariant 2: no prescription lost).

A document row is committed before anything is sent to CUPS, and the CUPS job id is
committed before the job gets its document, so a restart knows what was sent."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from kiosk.db import Transaction, connect
from printer.errors import DocumentNotFound

DocState = Literal["stored", "queued", "printing", "retrying", "completed", "failed"]
DocKind = Literal["prescription", "report"]
DONE_STATES = ("completed", "failed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS print_documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('prescription', 'report')),
    number TEXT NOT NULL,
    payload TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('stored', 'queued', 'printing', 'retrying', 'completed', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    cups_job_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    completed_at TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS print_documents_state ON print_documents (state, seq);
CREATE INDEX IF NOT EXISTS print_documents_session ON print_documents (session_id);
"""

# Keep unless told otherwise (set_state's default for cups_job_id).
_KEEP: Any = object()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class DocumentStore:
    """Synchronous; the service calls it through asyncio.to_thread. One lock per store."""

    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        _migrate_summaries(self.conn)
        self.conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def add(
        self,
        *,
        doc_id: str,
        session_id: str | None,
        kind: DocKind,
        number: str,
        payload: dict[str, Any],
        pdf_sha256: str,
    ) -> None:
        now = _now()
        with self._lock, Transaction(self.conn) as conn:
            conn.execute(
                "INSERT INTO print_documents (id, session_id, kind, number, payload, pdf_sha256,"
                " state, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'stored',"
                " 0, ?, ?)",
                (
                    doc_id,
                    session_id,
                    kind,
                    number,
                    json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    pdf_sha256,
                    now,
                    now,
                ),
            )

    def get(self, doc_id: str) -> dict[str, Any]:
        with self._lock:
            row = self.conn.execute(
                "SELECT * FROM print_documents WHERE id = ?", (doc_id,)
            ).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        return _row(row)

    def pending(self) -> list[dict[str, Any]]:
        """Documents not yet printed (nor given up), oldest first."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT * FROM print_documents WHERE state NOT IN ('completed', 'failed')"
                " ORDER BY seq"
            ).fetchall()
        return [_row(r) for r in rows]

    def count_pending(self) -> int:
        with self._lock:
            row = self.conn.execute(
                "SELECT COUNT(*) FROM print_documents WHERE state NOT IN ('completed', 'failed')"
            ).fetchone()
        return int(row[0])

    def set_state(
        self,
        doc_id: str,
        state: DocState,
        *,
        attempts: int | None = None,
        cups_job_id: int | None = _KEEP,
        error: str | None = None,
    ) -> None:
        now = _now()
        sets = ["state = ?", "updated_at = ?", "last_error = ?"]
        args: list[Any] = [state, now, error]
        if attempts is not None:
            sets.append("attempts = ?")
            args.append(attempts)
        if cups_job_id is not _KEEP:
            sets.append("cups_job_id = ?")
            args.append(cups_job_id)
        if state == "completed":
            sets.append("completed_at = ?")
            args.append(now)
        with self._lock, Transaction(self.conn) as conn:
            cur = conn.execute(
                f"UPDATE print_documents SET {', '.join(sets)} WHERE id = ?",  # noqa: S608 - fixed column names
                (*args, doc_id),
            )
            if cur.rowcount == 0:
                raise DocumentNotFound(doc_id)

    def requeue(self, doc_id: str) -> bool:
        """Print a finished document again (a new CUPS job). False when it is still pending."""
        with self._lock, Transaction(self.conn) as conn:
            row = conn.execute(
                "SELECT state FROM print_documents WHERE id = ?", (doc_id,)
            ).fetchone()
            if row is None:
                raise DocumentNotFound(doc_id)
            if row["state"] not in DONE_STATES:
                return False
            conn.execute(
                "UPDATE print_documents SET state = 'stored', attempts = 0, cups_job_id = NULL,"
                " last_error = NULL, completed_at = NULL, updated_at = ? WHERE id = ?",
                (_now(), doc_id),
            )
        return True

    def list(self, session_id: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM print_documents"
        args: tuple[Any, ...] = ()
        if session_id is not None:
            query += " WHERE session_id = ?"
            args = (session_id,)
        with self._lock:
            rows = self.conn.execute(query + " ORDER BY seq", args).fetchall()
        return [_row(r) for r in rows]

    @staticmethod
    def remove_printed(conn: sqlite3.Connection, session_id: str, copied_through: int) -> int:
        """Inside the caller's transaction (the outbox's acknowledgement of the session's
        record, kiosk/record): the session's printed documents go. One still to print stays
        for its retry, and a given-up one for its reprint (invariant 2) until the retention
        purge; a prescription not yet copied to the outbox (seq above ``copied_through``)
        stays until it is."""
        return conn.execute(
            "DELETE FROM print_documents WHERE session_id = ? AND state = 'completed'"
            " AND (kind != 'prescription' OR seq <= ?)",
            (session_id, copied_through),
        ).rowcount

    def purge(self, before: datetime) -> int:
        """Delete printed (or given-up) documents last touched before ``before``."""
        with self._lock, Transaction(self.conn) as conn:
            cur = conn.execute(
                "DELETE FROM print_documents WHERE state IN ('completed', 'failed')"
                " AND updated_at < ?",
                (before.astimezone(UTC).isoformat(),),
            )
        return cur.rowcount


def _migrate_summaries(conn: sqlite3.Connection) -> None:
    """A database from before the consultation report: its table only allowed the free-text
    summary, which the report replaced. Rebuilt with the report kind; the old summaries go
    (their text is not a report, and nothing renders them any more)."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'print_documents'"
    ).fetchone()
    if row is None or "'summary'" not in str(row[0]):
        return
    with Transaction(conn) as c:
        c.execute("DELETE FROM print_documents WHERE kind = 'summary'")
        c.execute("ALTER TABLE print_documents RENAME TO print_documents_old")
        c.execute("DROP INDEX IF EXISTS print_documents_state")
        c.execute("DROP INDEX IF EXISTS print_documents_session")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                c.execute(statement)
        c.execute("INSERT INTO print_documents SELECT * FROM print_documents_old")
        c.execute("DROP TABLE print_documents_old")


def _row(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data.pop("seq", None)
    return data
