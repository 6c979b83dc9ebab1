"""The documents table: committed rows, requeue, retention that never drops a pending one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from printer.errors import DocumentNotFound
from printer.store import DocumentStore


def add(store: DocumentStore, doc_id: str) -> None:
    store.add(
        doc_id=doc_id,
        session_id="s1",
        kind="prescription",
        number=f"N-{doc_id}",
        payload={"a": "é"},
        pdf_sha256="0" * 64,
    )


def test_rows_survive_a_new_connection(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    store = DocumentStore(db)
    add(store, "d1")
    store.set_state("d1", "queued", attempts=1, cups_job_id=42)
    store.conn.close()  # no clean shutdown
    again = DocumentStore(db)
    doc = again.get("d1")
    assert (doc["state"], doc["attempts"], doc["cups_job_id"]) == ("queued", 1, 42)
    assert doc["payload"] == {"a": "é"}
    assert [d["id"] for d in again.pending()] == ["d1"]
    again.close()


def test_requeue_only_finished_documents(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "db.sqlite3")
    add(store, "d1")
    assert store.requeue("d1") is False  # still pending: it prints anyway
    store.set_state("d1", "completed", cups_job_id=7)
    assert store.requeue("d1") is True
    doc = store.get("d1")
    assert (doc["state"], doc["attempts"], doc["cups_job_id"]) == ("stored", 0, None)
    with pytest.raises(DocumentNotFound):
        store.requeue("nope")
    with pytest.raises(DocumentNotFound):
        store.set_state("nope", "failed")
    store.close()


def test_purge_keeps_pending_documents(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "db.sqlite3")
    for doc_id in ("done", "gave-up", "waiting"):
        add(store, doc_id)
    store.set_state("done", "completed")
    store.set_state("gave-up", "failed")
    store.set_state("waiting", "retrying")
    assert store.purge(datetime.now(UTC) - timedelta(days=1)) == 0
    assert store.purge(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert [d["id"] for d in store.list()] == ["waiting"]
    store.close()


def test_bad_state_is_refused_by_the_database(tmp_path: Path) -> None:
    import sqlite3

    store = DocumentStore(tmp_path / "db.sqlite3")
    add(store, "d1")
    with pytest.raises(sqlite3.IntegrityError):
        store.set_state("d1", "lost")  # type: ignore[arg-type]
    assert store.get("d1")["state"] == "stored"
    store.close()
