"""The tamper-evident disinfection log: an append-only SQLite table, each entry chained to
the previous one by SHA-256.

hash = sha256(prev_hash + canonical JSON of the entry), canonical = sorted keys, no spaces,
UTF-8. The entry includes its own seq, so moving an entry changes its hash. Triggers refuse
UPDATE and DELETE; someone editing the file directly is caught by ``verify``. The last hash
is also kept as the session's ``disinfection_ref`` (an anchor outside the chain), so that
deleting the newest entries or re-hashing the whole chain shows too.

Retention (``retention.hygiene_log_years``, ``purge``): the oldest entries go as a prefix of
the chain, and the seq and hash of the last one purged stay as the chain's anchor
(``hygiene_log_anchor``): the remaining chain starts from it and verifies as before. Only
entries the hub has acknowledged go (the outbox copied them and no longer holds them), and
none that a kept session names as its disinfection.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import datetime
from typing import Any, Literal

from hub.shared.hygiene_chain import GENESIS_HASH, canonical, chain_hash
from kiosk.db import Transaction
from kiosk.lifecycle import LifecycleStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS hygiene_log (
    seq INTEGER PRIMARY KEY,
    cabin_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    referent_id TEXT NOT NULL,
    referent_name TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    steps TEXT NOT NULL,
    instruments_cleaned TEXT NOT NULL,
    consumables_replaced TEXT NOT NULL,
    anomalies TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS hygiene_log_session ON hygiene_log (session_id);
CREATE TRIGGER IF NOT EXISTS hygiene_log_no_update BEFORE UPDATE ON hygiene_log
BEGIN SELECT RAISE(ABORT, 'hygiene_log is append-only'); END;
CREATE TABLE IF NOT EXISTS hygiene_log_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS hygiene_log_anchor_forward BEFORE UPDATE ON hygiene_log_anchor
WHEN NEW.seq <= OLD.seq
BEGIN SELECT RAISE(ABORT, 'the hygiene log anchor only moves forward'); END;
CREATE TRIGGER IF NOT EXISTS hygiene_log_anchor_no_delete BEFORE DELETE ON hygiene_log_anchor
BEGIN SELECT RAISE(ABORT, 'the hygiene log anchor is kept'); END;
DROP TRIGGER IF EXISTS hygiene_log_no_delete;
CREATE TRIGGER hygiene_log_no_delete BEFORE DELETE ON hygiene_log
WHEN OLD.seq > coalesce((SELECT seq FROM hygiene_log_anchor WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'hygiene_log is append-only'); END;
"""

Outcome = Literal["disinfected", "anomaly"]
JSON_COLUMNS = ("steps", "instruments_cleaned", "consumables_replaced", "anomalies")
TEXT_COLUMNS = (
    "cabin_id",
    "session_id",
    "referent_id",
    "referent_name",
    "outcome",
    "started_at",
    "ended_at",
)
_COLUMNS = ("seq", *TEXT_COLUMNS, *JSON_COLUMNS, "prev_hash", "hash")
INSERT_SQL = (
    f"INSERT INTO hygiene_log ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant names
    f"VALUES ({', '.join('?' * len(_COLUMNS))})"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class EntryDraft:
    """What the referent did, before it gets its place in the chain."""

    cabin_id: str
    session_id: str
    referent_id: str
    referent_name: str
    outcome: Outcome
    started_at: datetime
    ended_at: datetime
    # Each: {id, label_fr, started_at, confirmed_at, consumables} (times ISO or None).
    steps: list[dict[str, Any]]
    instruments_cleaned: list[str]
    consumables_replaced: list[str]
    anomalies: list[dict[str, Any]]  # each: {step_id, reason, at}

    def content(self, seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "cabin_id": self.cabin_id,
            "session_id": self.session_id,
            "referent_id": self.referent_id,
            "referent_name": self.referent_name,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "steps": self.steps,
            "instruments_cleaned": self.instruments_cleaned,
            "consumables_replaced": self.consumables_replaced,
            "anomalies": self.anomalies,
        }


@dataclasses.dataclass(frozen=True)
class LogEntry:
    seq: int
    content: dict[str, Any]  # includes seq
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {**self.content, "prev_hash": self.prev_hash, "hash": self.hash}


def ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def append(conn: sqlite3.Connection, draft: EntryDraft) -> LogEntry:
    """Appends the entry and, for a completed disinfection, releases the session
    (LifecycleStore.mark_disinfected) in the same transaction: both or neither."""
    with Transaction(conn) as c:
        last = c.execute("SELECT seq, hash FROM hygiene_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq = 1 if last is None else int(last[0]) + 1
        prev = GENESIS_HASH if last is None else str(last[1])
        content = draft.content(seq)
        digest = chain_hash(prev, content)
        c.execute(
            INSERT_SQL,
            (
                seq,
                *(content[k] for k in TEXT_COLUMNS),
                *(_json_text(content[k]) for k in JSON_COLUMNS),
                prev,
                digest,
            ),
        )
        if draft.outcome == "disinfected":
            LifecycleStore.mark_disinfected(c, draft.session_id, digest, draft.ended_at)
    return LogEntry(seq, content, prev, digest)


def _json_text(value: Any) -> str:
    """JSON columns are stored in canonical form, so that every stored byte is covered by
    the hash (a re-spaced but equal JSON text is an alteration too)."""
    return canonical(value).decode("utf-8")


class NotCanonical(ValueError):
    pass


def _row_content(row: sqlite3.Row, *, strict: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"seq": row["seq"]}
    for k in TEXT_COLUMNS:
        content[k] = row[k]
    for k in JSON_COLUMNS:
        content[k] = json.loads(row[k])
        if strict and _json_text(content[k]) != row[k]:
            raise NotCanonical(k)
    return content


def entries(
    conn: sqlite3.Connection, *, since: datetime | None = None, limit: int | None = None
) -> list[LogEntry]:
    """Entries in chain order (oldest first); ``limit`` keeps the newest ones."""
    sql = "SELECT * FROM hygiene_log"
    args: list[Any] = []
    if since is not None:
        sql += " WHERE started_at >= ?"
        args.append(since.isoformat())
    sql += " ORDER BY seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    rows = conn.execute(sql, args).fetchall()
    return [LogEntry(r["seq"], _row_content(r), r["prev_hash"], r["hash"]) for r in reversed(rows)]


def entries_after(conn: sqlite3.Connection, seq: int, limit: int = 500) -> list[LogEntry]:
    """Entries after ``seq`` in chain order (the hub link sends them on)."""
    rows = conn.execute(
        "SELECT * FROM hygiene_log WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
    ).fetchall()
    return [LogEntry(r["seq"], _row_content(r), r["prev_hash"], r["hash"]) for r in rows]


def entry_for_session(conn: sqlite3.Connection, session_id: str) -> str | None:
    """The hash of the session's completed disinfection entry, if any."""
    row = conn.execute(
        "SELECT hash FROM hygiene_log WHERE session_id = ? AND outcome = 'disinfected' "
        "ORDER BY seq DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    return None if row is None else str(row[0])


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"hygiene log intact: {self.entries} entries"
        return f"hygiene log BROKEN at entry {self.bad_seq}: {self.reason}"


def anchor(conn: sqlite3.Connection) -> tuple[int, str]:
    """Where the kept chain starts: (seq, hash) of the last purged entry, (0, genesis) if
    none was purged."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hygiene_log_anchor'"
    ).fetchone()
    if has_table is None:
        return 0, GENESIS_HASH
    row = conn.execute("SELECT seq, hash FROM hygiene_log_anchor WHERE id = 1").fetchone()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


def _acknowledged_seq(conn: sqlite3.Connection) -> int | None:
    """The last entry the hub has acknowledged, or None when the cabin has no hub link.
    The outbox copies entries in order (meta ``hygiene_seq``) and deletes an item when
    the hub acknowledges it: an entry is delivered when it was copied and is gone."""
    has_outbox = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hub_link_meta'"
    ).fetchone()
    if has_outbox is None:
        return None
    row = conn.execute("SELECT value FROM hub_link_meta WHERE name = 'hygiene_seq'").fetchone()
    copied = 0 if row is None else int(row[0])
    pending = [
        int(json.loads(r[0])["content"]["seq"])
        for r in conn.execute("SELECT payload FROM hub_outbox WHERE kind = 'hygiene_entry'")
    ]
    return min([copied, *(s - 1 for s in pending)])


def purge(conn: sqlite3.Connection, older_than: datetime) -> int:
    """Deletes the oldest entries that ended before ``older_than`` and that the hub has
    acknowledged (and that no kept session names), as one prefix of the chain, and moves
    the anchor to the last one deleted; how many were deleted."""
    has_log = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hygiene_log'"
    ).fetchone()
    if has_log is None:
        return 0
    ensure_schema(conn)  # the anchor table and the delete trigger that allows it
    with Transaction(conn) as c:
        start, _ = anchor(c)
        limit = _acknowledged_seq(c)
        sql = "SELECT min(seq) FROM hygiene_log WHERE seq > ? AND (ended_at >= ?"
        args: list[Any] = [start, older_than.isoformat()]
        if limit is not None:
            sql += " OR seq > ?"
            args.append(limit)
        has_sessions = c.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'"
        ).fetchone()
        if has_sessions is not None:
            sql += " OR hash IN (SELECT disinfection_ref FROM sessions)"
        first_kept = c.execute(sql + ")", args).fetchone()[0]
        if first_kept is None:
            row = c.execute("SELECT max(seq) FROM hygiene_log").fetchone()
            last = 0 if row[0] is None else int(row[0])
        else:
            last = int(first_kept) - 1
        if last <= start:
            return 0
        (last_hash,) = c.execute("SELECT hash FROM hygiene_log WHERE seq = ?", (last,)).fetchone()
        c.execute(
            "INSERT INTO hygiene_log_anchor (id, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (last, last_hash),
        )
        return int(
            c.execute("DELETE FROM hygiene_log WHERE seq <= ? AND seq > ?", (last, start)).rowcount
        )


def verify(conn: sqlite3.Connection) -> VerifyResult:
    """Walks the chain from its anchor; the first entry that was altered, deleted or moved,
    and why."""
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM hygiene_log ORDER BY seq").fetchall()
    position: dict[str, int] = {str(r["hash"]): i for i, r in enumerate(rows)}
    start, prev = anchor(conn)
    for i, row in enumerate(rows):
        if int(row["seq"]) != start + i + 1:
            n = start + i + 1
            return VerifyResult(False, len(rows), n, f"entry {n} is missing (deleted)")
        why = _row_problem(row, i, prev, position)
        if why is not None:
            return VerifyResult(False, len(rows), start + i + 1, why)
        prev = str(row["hash"])
    missing = _anchors_missing(conn, set(position))
    if missing is not None:
        why = f"deleted: the disinfection of session {missing} has no entry in the chain"
        return VerifyResult(False, len(rows), start + len(rows) + 1, why)
    return VerifyResult(True, len(rows))


def _row_problem(row: sqlite3.Row, i: int, prev: str, position: dict[str, int]) -> str | None:
    """Why the i-th row (0-based) does not continue the chain after ``prev``, or None."""
    if row["prev_hash"] != prev:
        later = position.get(str(row["prev_hash"]))
        if later is not None and later > i:
            return "reordered: it follows an entry stored after it"
        return "it does not follow the previous entry (an entry was deleted or altered)"
    try:
        recomputed = chain_hash(prev, _row_content(row, strict=True))
    except NotCanonical as exc:
        return f"altered: {exc} was rewritten"
    except (ValueError, TypeError):
        return "altered: unreadable content"
    if recomputed != row["hash"]:
        return "altered: content does not match its hash"
    return None


def _anchors_missing(conn: sqlite3.Connection, hashes: set[str]) -> str | None:
    """A session released by a log entry that is no longer in the chain, if any."""
    has_sessions = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'"
    ).fetchone()
    if has_sessions is None:
        return None
    for row in conn.execute(
        "SELECT id, disinfection_ref FROM sessions WHERE disinfected_at IS NOT NULL "
        "ORDER BY disinfected_at"
    ):
        ref = row[1]
        # Only our own refs (64 hex digits) are anchors; other writers are not ours to judge.
        if isinstance(ref, str) and len(ref) == 64 and ref not in hashes:
            return str(row[0])
    return None
