"""What the cabin must tell the hub, kept in the cabin's SQLite until the hub has it.

An item gets its sequence number and idempotency key when it is written; the link sends
the items in order and deletes them when the hub acknowledges them, so a disconnect or
a SIGKILL only means sending again what was not acknowledged (the hub applies each
sequence number once). Statuses replace each other: a newer one deletes the older ones
not yet acknowledged, so a cabin offline for a week does not queue a week of them.
Session events and hygiene log entries are copied from their own durable tables
(``put_once``) in order, so none can be missed between their commit and the outbox's.

No patient data goes here (statuses, session ids and states, the disinfection log), but
for one item per consultation, its record (``consultation_record``, kiosk/record): written
with ``insert`` in the transaction that deletes the record's parts, and gone with the
hub's acknowledgement, whose transaction also runs the ``on_acknowledged`` hooks (the
record's printed documents go in it)."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.db import Transaction, connect

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS hub_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hub_link_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclasses.dataclass(frozen=True)
class Item:
    seq: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime


class Outbox:
    def __init__(self, path: Path | str) -> None:
        self.conn = connect(path)
        # An acknowledged record is overwritten on disk, not only unlinked.
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.executescript(SCHEMA)
        # Run inside the transaction that deletes acknowledged items.
        self.on_acknowledged: list[Callable[[sqlite3.Connection], None]] = []
        with Transaction(self.conn) as c:
            if _meta(c, "epoch") is None:
                _set_meta(c, "epoch", secrets.token_hex(8))

    def close(self) -> None:
        self.conn.close()

    @property
    def epoch(self) -> str:
        value = _meta(self.conn, "epoch")
        assert value is not None
        return value

    def put(self, kind: str, payload: dict[str, Any], *, replaces_older: bool = False) -> int:
        with Transaction(self.conn) as c:
            if replaces_older:
                c.execute("DELETE FROM hub_outbox WHERE kind = ?", (kind,))
            return _insert(c, kind, payload)

    def put_once(
        self, kind: str, payload: dict[str, Any], *, key: str, meta: tuple[str, str]
    ) -> None:
        """An item copied from a durable record: its key says which, and ``meta`` (the
        record's position) is written in the same transaction, so a crash copies it
        either fully or not at all."""
        with Transaction(self.conn) as c:
            if c.execute("SELECT 1 FROM hub_outbox WHERE key = ?", (key,)).fetchone() is None:
                _insert(c, kind, payload, key=key)
            _set_meta(c, *meta)

    def reconcile_hygiene(self, entries: list[dict[str, Any]]) -> int:
        """Queues the log entries (seq order, ``{content, prev_hash, hash}``) newer than the
        last one queued; how many were added."""
        last = int(self.meta("hygiene_seq") or 0)
        added = 0
        for entry in entries:
            seq = int(entry["content"]["seq"])
            if seq > last:
                key = f"hygiene-{self.epoch}-{seq}"
                self.put_once("hygiene_entry", entry, key=key, meta=("hygiene_seq", str(seq)))
                last, added = seq, added + 1
        return added

    def after(self, seq: int, limit: int = 100) -> list[Item]:
        rows = self.conn.execute(
            "SELECT * FROM hub_outbox WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [
            Item(
                r["seq"],
                r["key"],
                r["kind"],
                json.loads(r["payload"]),
                datetime.fromisoformat(r["created_at"]),
            )
            for r in rows
        ]

    def acknowledged(self, seq: int) -> None:
        with Transaction(self.conn) as c:
            if c.execute("DELETE FROM hub_outbox WHERE seq <= ?", (seq,)).rowcount:
                for hook in self.on_acknowledged:
                    try:
                        hook(c)
                    except Exception:
                        # The acknowledgement stands (else the link would fail on it
                        # forever); what the hook missed goes with the retention purge.
                        log.exception("outbox: a hook of the acknowledgement failed")

    @property
    def pending(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM hub_outbox").fetchone()[0])

    def meta(self, name: str) -> str | None:
        return _meta(self.conn, name)

    def set_meta(self, name: str, value: str) -> None:
        with Transaction(self.conn) as c:
            _set_meta(c, name, value)


def insert(c: sqlite3.Connection, kind: str, payload: dict[str, Any], *, key: str) -> int:
    """An item written inside the caller's transaction (on the cabin's database), so that
    it commits with what the caller changes, or not at all."""
    return _insert(c, kind, payload, key=key)


def _insert(c: sqlite3.Connection, kind: str, payload: dict[str, Any], key: str = "") -> int:
    cursor = c.execute(
        "INSERT INTO hub_outbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        (
            key or uuid.uuid4().hex,
            kind,
            json.dumps(payload, ensure_ascii=False),
            datetime.now(UTC).isoformat(),
        ),
    )
    return int(cursor.lastrowid or 0)


def _meta(c: sqlite3.Connection, name: str) -> str | None:
    row = c.execute("SELECT value FROM hub_link_meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def _set_meta(c: sqlite3.Connection, name: str, value: str) -> None:
    c.execute(
        "INSERT INTO hub_link_meta (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
