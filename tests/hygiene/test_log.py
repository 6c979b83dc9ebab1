"""The chained log: append-only by triggers, and tampering with the file (as an attacker
who drops the triggers would) is found by verify and by `kiosk hygiene verify`."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hygiene import log as hlog
from kiosk.bus import EventBus
from kiosk.cli import main
from kiosk.lifecycle import Lifecycle, LifecycleStore, State

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def build_chain(db: Path, n: int = 4) -> list[hlog.LogEntry]:
    """n real sessions, each disinfected and logged, through the lifecycle."""
    now = {"t": T0}
    store = LifecycleStore(db)
    lc = Lifecycle(store, EventBus(), clock=lambda: now["t"])
    conn = store.conn
    hlog.ensure_schema(conn)
    written = []
    for i in range(n):
        lc.transition(State.CHECK_IN, "test")
        session = lc.session_id
        assert session is not None
        lc.transition(State.AWAITING_DISINFECTION, "test")
        lc.transition(State.CLEANING, "test")
        start = now["t"]
        now["t"] += timedelta(minutes=10)
        draft = hlog.EntryDraft(
            cabin_id="test-01",
            session_id=session,
            referent_id="amelie",
            referent_name="Amélie Martin",
            outcome="disinfected",
            started_at=start,
            ended_at=now["t"],
            steps=[
                {
                    "id": "siege",
                    "label_fr": "Siège",
                    "status": "confirmed",
                    "started_at": start.isoformat(),
                    "confirmed_at": now["t"].isoformat(),
                    "consumables": [],
                }
            ],
            instruments_cleaned=["tensiometre"] if i % 2 else [],
            consumables_replaced=[],
            anomalies=[],
        )
        written.append(hlog.append(conn, draft))
        lc.transition(State.IDLE, "test")
        now["t"] += timedelta(minutes=30)
    store.close()
    return written


def raw(db: Path) -> sqlite3.Connection:
    """The attacker's connection: triggers dropped."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER hygiene_log_no_update")
    conn.execute("DROP TRIGGER hygiene_log_no_delete")
    return conn


def check(db: Path) -> hlog.VerifyResult:
    conn = sqlite3.connect(db)
    try:
        return hlog.verify(conn)
    finally:
        conn.close()


def test_chain_links_and_verifies(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    written = build_chain(db)
    assert [e.seq for e in written] == [1, 2, 3, 4]
    assert written[0].prev_hash == hlog.GENESIS_HASH
    for a, b in itertools.pairwise(written):
        assert b.prev_hash == a.hash
        assert b.hash == hlog.chain_hash(a.hash, b.content)
    result = check(db)
    assert result.ok and result.entries == 4
    # Canonical form: sorted keys, no spaces, UTF-8 (not \\u escapes).
    text = hlog.canonical(written[0].content).decode()
    assert '"referent_name":"Amélie Martin"' in text and ", " not in text


def test_triggers_refuse_update_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 2)
    conn = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE hygiene_log SET referent_name = 'X' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM hygiene_log WHERE seq = 2")
    conn.close()
    assert check(db).ok


def _swap(conn: sqlite3.Connection, a: int, b: int) -> None:
    cols = [r[1] for r in conn.execute("PRAGMA table_info(hygiene_log)") if r[1] != "seq"]
    rows = {
        seq: conn.execute(
            f"SELECT {', '.join(cols)} FROM hygiene_log WHERE seq = ?", (seq,)
        ).fetchone()
        for seq in (a, b)
    }
    conn.execute("DELETE FROM hygiene_log WHERE seq IN (?, ?)", (a, b))
    marks = ", ".join("?" * (len(cols) + 1))
    for seq, other in ((a, b), (b, a)):
        conn.execute(
            f"INSERT INTO hygiene_log (seq, {', '.join(cols)}) VALUES ({marks})",
            (seq, *rows[other]),
        )


TAMPERING = {
    "altered": (
        lambda c: c.execute("UPDATE hygiene_log SET referent_name = 'Quelqu''un' WHERE seq = 2"),
        2,
        "altered",
    ),
    "altered_json": (
        lambda c: c.execute(
            "UPDATE hygiene_log SET steps = replace(steps, '09:10', '09:05') WHERE seq = 1"
        ),
        1,
        "altered",
    ),
    "deleted": (lambda c: c.execute("DELETE FROM hygiene_log WHERE seq = 2"), 2, "deleted"),
    "deleted_last": (lambda c: c.execute("DELETE FROM hygiene_log WHERE seq = 4"), 4, "deleted"),
    "swapped": (lambda c: _swap(c, 2, 3), 2, "reordered"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_detected(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db)
    edit, bad_seq, word = TAMPERING[kind]
    conn = raw(db)
    edit(conn)
    conn.close()
    result = check(db)
    assert not result.ok
    assert result.bad_seq == bad_seq, result
    assert word in result.reason, result


def test_rehashing_the_whole_chain_is_caught_by_the_session_anchors(tmp_path: Path) -> None:
    """An attacker who alters entry 2 and recomputes every hash after it still leaves the
    sessions' disinfection_ref pointing at the original hashes."""
    db = tmp_path / "cabin.sqlite3"
    build_chain(db)
    conn = raw(db)
    conn.row_factory = sqlite3.Row
    conn.execute("UPDATE hygiene_log SET referent_name = 'Faux' WHERE seq = 2")
    prev = conn.execute("SELECT hash FROM hygiene_log WHERE seq = 1").fetchone()[0]
    for row in conn.execute("SELECT * FROM hygiene_log WHERE seq >= 2 ORDER BY seq").fetchall():
        new = hlog.chain_hash(prev, hlog._row_content(row))
        conn.execute(
            "UPDATE hygiene_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, new, row["seq"])
        )
        prev = new
    conn.close()
    result = check(db)
    assert not result.ok
    assert "deleted" in result.reason and "session" in result.reason


def test_cli_verify_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db)
    assert main(["hygiene", "verify", "--db", str(db)]) == 0
    assert "intact: 4 entries" in capsys.readouterr().out
    conn = raw(db)
    _swap(conn, 2, 3)
    conn.close()
    assert main(["hygiene", "verify", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "entry 2" in err and "reordered" in err
    assert main(["hygiene", "verify", "--db", str(tmp_path / "missing.sqlite3")]) == 2


def test_cli_verify_as_a_process(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db)
    cmd = [sys.executable, "-m", "kiosk.cli", "hygiene", "verify", "--db", str(db)]
    ok = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    conn = raw(db)
    conn.execute("DELETE FROM hygiene_log WHERE seq = 3")
    conn.close()
    bad = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 1
    assert "entry 3" in bad.stderr and "deleted" in bad.stderr


def test_verify_does_not_write(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db)
    before = db.read_bytes()
    assert main(["hygiene", "verify", "--db", str(db)]) == 0
    assert db.read_bytes() == before


COLUMNS = [*hlog.TEXT_COLUMNS, *hlog.JSON_COLUMNS, "prev_hash", "hash"]


@pytest.fixture(scope="module")
def chain_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("chain") / "cabin.sqlite3"
    build_chain(db, 4)
    return db


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(1, 4),
    column=st.sampled_from(COLUMNS),
    position=st.integers(0, 10_000),
    char=st.characters(codec="utf-8", exclude_characters="\x00"),
)
def test_any_changed_character_is_detected(
    chain_db: Path, seq: int, column: str, position: int, char: str
) -> None:
    """Property: replacing any one character of any stored field of any entry breaks the
    chain at that entry (or, for a hash, at the entry that points to it)."""
    conn = sqlite3.connect(":memory:")
    src = sqlite3.connect(chain_db)
    src.backup(conn)
    src.close()
    conn.execute("DROP TRIGGER hygiene_log_no_update")
    (value,) = conn.execute(f"SELECT {column} FROM hygiene_log WHERE seq = ?", (seq,)).fetchone()
    i = position % len(value)
    assume(value[i] != char)
    changed = value[:i] + char + value[i + 1 :]
    conn.execute(f"UPDATE hygiene_log SET {column} = ? WHERE seq = ?", (changed, seq))
    result = hlog.verify(conn)
    conn.close()
    assert not result.ok
    assert result.bad_seq in (seq, seq + 1), result


def test_equal_but_rewritten_json_is_an_alteration(tmp_path: Path) -> None:
    """Every stored byte counts, not only the parsed meaning."""
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 2)
    conn = raw(db)
    conn.execute("UPDATE hygiene_log SET steps = replace(steps, ',', ', ') WHERE seq = 2")
    conn.close()
    result = check(db)
    assert (result.ok, result.bad_seq) == (False, 2)
    assert "steps was rewritten" in result.reason


def test_cli_finds_the_database_from_the_config_and_lists_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .conftest import make_settings

    settings = make_settings(tmp_path)
    build_chain(settings.storage.database, 3)
    config = str(tmp_path / "cabin.toml")
    assert main(["hygiene", "verify", "--config", config]) == 0
    assert main(["hygiene", "log", "--config", config, "--limit", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["2", "3"]
    assert "disinfected" in lines[0] and "Amélie Martin" in lines[0] and "1/1 steps" in lines[0]
    assert main(["hygiene", "verify"]) == 2  # neither --db nor --config (and no /etc/kiosk)
