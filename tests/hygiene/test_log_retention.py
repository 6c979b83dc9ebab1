"""retention.hygiene_log_years: the oldest acknowledged entries go, the chain still verifies
from its anchor, an entry the hub has not acknowledged stays, tampering is still found."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hygiene import log as hlog
from kiosk.cli import main
from kiosk.hub_link.outbox import Outbox

from .test_log import T0, build_chain, check, raw

LATER = T0 + timedelta(days=365 * 6)


def _forget_sessions(db: Path) -> None:
    """The sessions' own retention (30 days) has long passed."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DELETE FROM sessions")
    conn.close()


def _deliver(db: Path, upto: int | None) -> Outbox:
    """The hub link copies every entry to the outbox; the hub acknowledges up to ``upto``."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    entries = [e.to_json() for e in hlog.entries(conn)]
    conn.close()
    outbox = Outbox(db)
    outbox.reconcile_hygiene(
        [{"content": e, "prev_hash": e["prev_hash"], "hash": e["hash"]} for e in entries]
    )
    if upto is not None:
        items = [i for i in outbox.after(0) if int(i.payload["content"]["seq"]) <= upto]
        outbox.acknowledged(max(i.seq for i in items))
    return outbox


def _purge(db: Path, older_than: datetime = LATER) -> int:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        return hlog.purge(conn, older_than)
    finally:
        conn.close()


def _seqs(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT seq FROM hygiene_log ORDER BY seq")]
    finally:
        conn.close()


def _two_purged(db: Path, entries: int) -> None:
    """A chain of ``entries``, its sessions gone, the first two acknowledged and purged."""
    build_chain(db, entries)
    _forget_sessions(db)
    _deliver(db, upto=2).close()
    assert _purge(db) == 2


def test_old_acknowledged_entries_go_and_the_chain_verifies(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    written = build_chain(db, 5)
    _forget_sessions(db)
    _deliver(db, upto=5).close()
    assert _purge(db) == 5
    assert _seqs(db) == []
    conn = sqlite3.connect(db)
    assert hlog.anchor(conn) == (5, written[-1].hash)
    conn.close()
    assert check(db).ok
    assert _purge(db) == 0


def test_recent_entries_stay(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    written = build_chain(db, 4)
    _forget_sessions(db)
    _deliver(db, upto=4).close()
    cutoff = written[2].content["ended_at"]
    assert _purge(db, datetime.fromisoformat(cutoff)) == 2
    assert _seqs(db) == [3, 4]
    result = check(db)
    assert result.ok and result.entries == 2


def test_an_entry_the_hub_has_not_acknowledged_stays(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 5)
    _forget_sessions(db)
    outbox = _deliver(db, upto=2)
    assert _purge(db) == 2
    assert _seqs(db) == [3, 4, 5]
    assert check(db).ok
    # Entries 3 to 5 are still in the outbox, whole: the hub will get them.
    pending = [i.payload["content"]["seq"] for i in outbox.after(0)]
    assert pending == [3, 4, 5]
    outbox.close()


def test_an_entry_not_yet_copied_to_the_outbox_stays(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 3)
    _forget_sessions(db)
    outbox = _deliver(db, upto=3)
    outbox.close()
    build_more = sqlite3.connect(db, isolation_level=None)
    build_more.execute("UPDATE hub_link_meta SET value = '1' WHERE name = 'hygiene_seq'")
    build_more.close()
    assert _purge(db) == 1
    assert _seqs(db) == [2, 3]


def test_an_entry_a_kept_session_names_stays(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 3)
    _deliver(db, upto=3).close()
    assert _purge(db) == 0
    assert _seqs(db) == [1, 2, 3]
    assert check(db).ok


def test_tampering_after_a_purge_is_still_found(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    _two_purged(db, 5)
    conn = raw(db)
    conn.execute("UPDATE hygiene_log SET referent_name = 'X' WHERE seq = 4")
    conn.close()
    result = check(db)
    assert not result.ok and result.bad_seq == 4 and "altered" in result.reason


def test_deleting_the_oldest_kept_entry_is_still_found(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    _two_purged(db, 5)
    conn = raw(db)
    conn.execute("DELETE FROM hygiene_log WHERE seq = 3")
    conn.close()
    result = check(db)
    assert not result.ok and result.bad_seq == 3 and "missing" in result.reason


def test_kept_entries_and_the_anchor_refuse_deletion(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    _two_purged(db, 4)
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM hygiene_log WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="anchor"):
        conn.execute("DELETE FROM hygiene_log_anchor")
    with pytest.raises(sqlite3.DatabaseError, match="anchor"):
        conn.execute("UPDATE hygiene_log_anchor SET seq = 1")
    conn.close()
    assert check(db).ok


def test_cli_verify_and_export_after_a_purge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cabin.sqlite3"
    _two_purged(db, 4)
    assert main(["hygiene", "verify", "--db", str(db)]) == 0
    assert "intact: 2 entries" in capsys.readouterr().out
    assert main(["hygiene", "export", "--db", str(db), "--since", "2026-11-01"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["seq"] for r in rows] == ["3", "4"]
