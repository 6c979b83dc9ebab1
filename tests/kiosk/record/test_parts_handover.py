"""The record's parts and its handover on real SQLite files: the parts survive their
store being closed and reopened mid-session; the handover queues the record and deletes
the parts in one transaction (a failed queueing keeps them); the hub's acknowledgement
deletes the session's printed documents but one still to print or a prescription not yet
reported; the copy still printing holds the handover back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.shared.ins import Patient
from hub.shared.record import Observation, Practitioner, Report
from kiosk.hub_link.outbox import Outbox
from kiosk.record.handover import Handover, after_acknowledged, key_of, log_failure
from kiosk.record.parts import PartsStore
from printer.store import DocumentStore

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PATIENT = Patient(birth_name="DUPONT", first_names="HÉLÈNE", birth_date="1948-03-02")
DOCTOR = Practitioner(name="Dr Claire Martin", rpps="10003456786")


def observation(value: int, minutes: int = 5) -> Observation:
    return Observation(kind="blood_pressure", code="8480-6", display="Systolic blood pressure",
                       value=Decimal(value), unit="mm[Hg]", device="tensiometre",
                       taken_at=START + timedelta(minutes=minutes))  # fmt: skip


def open_parts(db: Path, session: str = "s1", consultation: str = "c1") -> PartsStore:
    parts = PartsStore(db)
    parts.attached(session, consultation, START, DOCTOR, (PATIENT, None))
    return parts


def add_document(
    db: Path, doc_id: str, session: str, kind: str = "report", state: str = "completed"
) -> None:
    store = DocumentStore(db)
    store.add(doc_id=doc_id, session_id=session, kind=kind,  # type: ignore[arg-type]
              number=f"N-{doc_id}", payload={"patient": "DUPONT"}, pdf_sha256="0" * 64)  # fmt: skip
    store.set_state(doc_id, state)  # type: ignore[arg-type]
    store.close()


def count(db: Path, table: str, session: str = "s1") -> int:
    conn = sqlite3.connect(db)
    try:
        query = f'SELECT count(*) FROM "{table}" WHERE session_id = ?'
        return int(conn.execute(query, (session,)).fetchone()[0])
    finally:
        conn.close()


def test_the_parts_outlive_their_store(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    parts = open_parts(db)
    parts.add_observations("s1", [observation(131)])
    parts.conn.close()  # no clean shutdown, mid-session

    again = PartsStore(db)
    again.add_observations("s1", [observation(128, 9)])
    # A console reload (the same consultation) keeps the start and the identity.
    again.attached("s1", "c1", START + timedelta(minutes=3), DOCTOR, None)
    again.ended("s1", START + timedelta(minutes=20))
    again.ended("s1", START + timedelta(minutes=25))  # the first end is kept
    assert again.signed("s1", "c1", Report(conclusion="Angine virale"), START)
    assert not again.signed("s1", "other", Report(conclusion="?"), START)
    got = again.get("s1")
    assert got is not None
    assert (got.started_at, got.patient, got.practitioner) == (START, PATIENT, DOCTOR)
    assert [o.value for o in got.observations] == [Decimal(131), Decimal(128)]
    assert got.ended_at == START + timedelta(minutes=20)
    assert got.report is not None and got.report.conclusion == "Angine virale"
    assert got.copy == "not_offered"
    again.close()


def test_the_handover_queues_the_record_and_deletes_the_parts_at_once(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    parts = open_parts(db)
    parts.add_observations("s1", [observation(131)])
    parts.ended("s1", START + timedelta(minutes=20))
    outbox = Outbox(db)
    handover = Handover(db, cabin_id="nangis-01")

    seq = handover.hand_over("s1")
    assert seq is not None
    items = outbox.after(0)
    assert [(i.seq, i.key, i.kind) for i in items] == [(seq, key_of("c1"), "consultation_record")]
    record = items[0].payload
    assert record["consultation_id"] == "c1" and record["printed_copy"] == "not_offered"
    assert record["patient"]["birth_name"] == "DUPONT"
    assert parts.get("s1") is None and parts.sessions() == []
    # Again (a second event, a restart): nothing more is queued.
    assert handover.hand_over("s1") is None
    assert len(outbox.after(0)) == 1
    handover.close()
    outbox.close()
    parts.close()


def test_a_failed_queueing_keeps_the_parts(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    parts = open_parts(db)
    parts.add_observations("s1", [observation(131)])
    outbox = Outbox(db)
    # The key is taken (it cannot be, but if it were): the insert fails, and with it the
    # deletion of the parts in the same transaction.
    outbox.put_once("consultation_record", {}, key=key_of("c1"), meta=("x", "1"))
    handover = Handover(db, cabin_id="nangis-01")
    with pytest.raises(sqlite3.IntegrityError):
        handover.hand_over("s1")
    got = parts.get("s1")
    assert got is not None and len(got.observations) == 1
    assert count(db, "record_handovers") == 0
    handover.close()
    outbox.close()
    parts.close()


def test_the_acknowledgement_deletes_the_printed_documents(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    parts = open_parts(db)
    add_document(db, "copy", "s1")  # the report's copy, printed
    add_document(db, "rx", "s1", kind="prescription")  # printed, not reported yet
    add_document(db, "retry", "s1", state="retrying")  # still to print (invariant 2)
    add_document(db, "other", "s2")  # another session's
    outbox = Outbox(db)
    outbox.on_acknowledged.append(after_acknowledged)
    handover = Handover(db, cabin_id="nangis-01")
    seq = handover.hand_over("s1")
    assert seq is not None

    outbox.acknowledged(seq - 1)  # not this one yet: nothing goes
    assert count(db, "print_documents") == 3
    outbox.acknowledged(seq)
    left = {r["id"] for r in DocumentStore(db).list("s1")}
    assert left == {"rx", "retry"}
    assert count(db, "print_documents", "s2") == 1
    assert count(db, "record_handovers") == 1  # until they are gone

    # The prescription is reported (the outbox copied it), the retry printed: the next
    # acknowledgement takes them and the handover's row.
    outbox.set_meta("prescription_seq", "99")
    store = DocumentStore(db)
    store.set_state("retry", "completed")
    later = outbox.put("status", {})
    outbox.acknowledged(later)
    assert count(db, "print_documents") == 0 and count(db, "record_handovers") == 0
    assert outbox.pending == 0
    store.close()
    handover.close()
    outbox.close()
    parts.close()


def test_the_copy_still_printing_holds_the_handover(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    parts = open_parts(db)
    parts.signed("s1", "c1", Report(conclusion="Angine virale"), START)
    add_document(db, "copy", "s1", state="printing")
    parts.set_copy("s1", "asked", "copy")
    outbox = Outbox(db)
    handover = Handover(db, cabin_id="nangis-01")
    assert handover.hand_over("s1") is None  # its patient may still take it
    assert parts.get("s1") is not None
    store = DocumentStore(db)
    store.set_state("copy", "completed")
    assert handover.hand_over("s1") is not None
    assert outbox.after(0)[0].payload["printed_copy"] == "printed"

    # Another session whose copy never printed: handed over as failed when forced.
    parts.attached("s2", "c2", START, DOCTOR, (PATIENT, None))
    parts.signed("s2", "c2", Report(conclusion="Angine virale"), START)
    add_document(db, "copy2", "s2", state="retrying")
    parts.set_copy("s2", "asked", "copy2")
    assert handover.hand_over("s2") is None
    assert handover.hand_over("s2", force=True) is not None
    assert outbox.after(0)[-1].payload["printed_copy"] == "failed"

    # A copy the printer gave up on: failed, without waiting.
    parts.attached("s3", "c3", START, DOCTOR, (PATIENT, None))
    parts.signed("s3", "c3", Report(conclusion="Angine virale"), START)
    add_document(db, "copy3", "s3", state="failed")
    parts.set_copy("s3", "asked", "copy3")
    assert handover.hand_over("s3") is not None
    assert outbox.after(0)[-1].payload["printed_copy"] == "failed"
    # Asked, and no answer before leaving: neither a "yes" nor a "no".
    parts.attached("s4", "c4", START, DOCTOR, (PATIENT, None))
    parts.signed("s4", "c4", Report(conclusion="Angine virale"), START)
    parts.offered("s4")
    assert handover.hand_over("s4") is not None
    assert outbox.after(0)[-1].payload["printed_copy"] == "unanswered"
    store.close()
    handover.close()
    outbox.close()
    parts.close()


def test_a_failing_hook_does_not_hold_the_acknowledgement(tmp_path: Path) -> None:
    db = tmp_path / "cabin.sqlite3"
    outbox = Outbox(db)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("DELETE FROM no_such_table")

    outbox.on_acknowledged.append(broken)
    seq = outbox.put("status", {})
    outbox.acknowledged(seq)  # the link would fail on it forever otherwise
    assert outbox.pending == 0
    outbox.close()


def test_a_failure_is_logged_without_the_patient(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValidationError) as refused:
        Patient(birth_name="DUPONT", first_names="HÉLÈNE", birth_date="2999-01-01")
    log_failure("record: session s1 refused", refused.value)
    assert "birth_date" in caplog.text
    assert "DUPONT" not in caplog.text and "2999" not in caplog.text
