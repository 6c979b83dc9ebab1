"""The handover of a finished session's record to the hub (invariant 3).

The record (``wire.CabinRecord``) is built from the session's parts, the prescription the
printer's store keeps for the session and the patient's answer about the printed copy.
It goes into the outbox in the transaction that deletes the parts: a crash leaves either
the parts (handed over at the next start) or the queued record, never both, never none.
The parts, the outbox and the printed documents are tables of the one cabin database
(kiosk/db.py), so one connection's transaction holds all three. The outbox key is the
consultation's id: one record per consultation, sent exactly once.

When the hub has acknowledged the record, ``after_acknowledged`` (run in the outbox's
acknowledgement transaction) deletes the session's printed documents: nothing of the
patient stays in the cabin's database. A document still to print stays for its retry
(invariant 2), and goes at a later acknowledgement once printed.

Synchronous, on a connection of its own: the component runs it in a thread."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.shared import wire
from hub.shared.document_errors import PrescriptionInvalid
from hub.shared.prescription import Item, parse_prescription
from hub.shared.record import MAX_OBSERVATIONS, PrescriptionDocument
from kiosk.db import Transaction, connect
from kiosk.hub_link import outbox
from kiosk.record.parts import SCHEMA as PARTS_SCHEMA
from kiosk.record.parts import Parts, PartsStore, read_parts
from printer.render import render_prescription
from printer.store import DocumentStore

log = logging.getLogger(__name__)

KIND = "consultation_record"
# The record travels in one outbox frame: room is left for the frame's own fields.
MAX_PAYLOAD_BYTES = wire.MAX_FRAME_BYTES - 16 * 1024

SCHEMA = """
-- A record handed over, until the hub has it and the session's documents are gone.
CREATE TABLE IF NOT EXISTS record_handovers (
    session_id TEXT PRIMARY KEY,
    outbox_seq INTEGER NOT NULL
);
"""


@dataclasses.dataclass(frozen=True)
class Prescribed:
    """What the doctor prescribed in the session, as the printer's store keeps it."""

    lines: list[Item]
    document: PrescriptionDocument | None


def key_of(consultation_id: str) -> str:
    return f"record-{consultation_id}"


class Handover:
    def __init__(self, path: Path | str, *, cabin_id: str, paper: Any = "A4") -> None:
        self.conn = connect(path)
        # What is deleted here (the parts) is overwritten on disk, not only unlinked.
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.executescript(PARTS_SCHEMA + SCHEMA + outbox.SCHEMA)
        self.cabin_id = cabin_id
        self.paper = paper

    def close(self) -> None:
        self.conn.close()

    def hand_over(self, session_id: str, *, force: bool = False) -> int | None:
        """Queues the session's record and deletes its parts, in one transaction; the
        outbox seq, or None when there was no record to queue (no doctor came, nobody
        identified: the parts go all the same). With the patient's copy still printing
        nothing happens (None), unless ``force`` (the copy counts as failed)."""
        parts = read_parts(self.conn, session_id)
        copy = printed_copy(self.conn, parts, force=force)
        if parts is not None and copy is None:
            return None  # the copy is printing: handed over when it is done
        prescribed = prescription_of(self.conn, session_id, self.paper)
        with Transaction(self.conn) as c:
            parts = read_parts(c, session_id)  # again, inside the transaction
            record = None if parts is None else build(parts, prescribed, copy or "failed")
            seq = None
            if record is not None:
                payload = record.model_dump(mode="json")
                if len(json.dumps(payload)) > MAX_PAYLOAD_BYTES and record.prescription:
                    payload["prescription"] = _reference(self.cabin_id, record.prescription)
                seq = outbox.insert(c, KIND, payload, key=key_of(record.consultation_id))
                c.execute(
                    "INSERT OR REPLACE INTO record_handovers (session_id, outbox_seq)"
                    " VALUES (?, ?)",
                    (session_id, seq),
                )
            PartsStore.delete(c, session_id)
        if seq is not None:
            log.info("record of session %s handed over (outbox %d)", session_id, seq)
        elif parts is not None:
            log.warning("session %s: no record handed over (no patient identity)", session_id)
        return seq


def printed_copy(
    conn: sqlite3.Connection, parts: Parts | None, *, force: bool
) -> wire.PrintedCopy | None:
    """The patient's copy as the record says it; None while it is printing."""
    if parts is None or parts.copy == "not_offered":
        return "not_offered"
    if parts.copy == "declined":
        return "declined"
    if parts.copy == "offered":
        return "unanswered"  # asked, and the patient left without a word
    row = conn.execute(
        "SELECT state FROM print_documents WHERE id = ?", (parts.copy_document_id,)
    ).fetchone()
    if row is not None and row["state"] == "completed":
        return "printed"
    if row is None or row["state"] == "failed" or force:
        return "failed"
    return None


def prescription_of(
    conn: sqlite3.Connection, session_id: str, paper: Any, *, with_pdf: bool = True
) -> Prescribed:
    """The session's last prescription: its lines, and its PDF when rendering it again
    gives the bytes that printed (else, or without ``with_pdf``, its digest and where the
    cabin kept it)."""
    try:
        row = conn.execute(
            "SELECT id, number, payload, pdf_sha256 FROM print_documents"
            " WHERE session_id = ? AND kind = 'prescription' ORDER BY seq DESC LIMIT 1",
            (session_id,),
        ).fetchone()
    except sqlite3.OperationalError:
        return Prescribed([], None)  # no printer table (a cabin without a printer)
    if row is None:
        return Prescribed([], None)
    try:
        rx = parse_prescription(json.loads(row["payload"]))
    except PrescriptionInvalid:  # stored by an older version: its digest says which
        log.warning("session %s: its stored prescription no longer parses", session_id)
        document = PrescriptionDocument(
            number=row["number"], sha256=row["pdf_sha256"], ref=f"cabin-document:{row['id']}"
        )
        return Prescribed([], document)
    pdf = render_prescription(rx, paper) if with_pdf else b""
    if pdf and hashlib.sha256(pdf).hexdigest() == row["pdf_sha256"]:
        document = PrescriptionDocument(number=row["number"], pdf=pdf, sha256=row["pdf_sha256"])
    else:  # rendered by another version: the digest says which PDF printed
        document = PrescriptionDocument(
            number=row["number"], sha256=row["pdf_sha256"], ref=f"cabin-document:{row['id']}"
        )
    return Prescribed(list(rx.items), document)


def build(parts: Parts, prescribed: Prescribed, copy: wire.PrintedCopy) -> wire.CabinRecord | None:
    """The cabin's part of the record; None when it cannot be one (nobody identified, or
    parts that do not validate: the cause is logged, never the data)."""
    if parts.patient is None:
        return None
    observations = list(parts.observations)
    if len(observations) > MAX_OBSERVATIONS:
        log.warning("session %s: only the first %d measurements go", parts.session_id,
                    MAX_OBSERVATIONS)  # fmt: skip
        observations = observations[:MAX_OBSERVATIONS]
    try:
        return wire.CabinRecord(
            consultation_id=parts.consultation_id,
            session_id=parts.session_id,
            started_at=parts.started_at,
            ended_at=max(parts.ended_at or datetime.now(UTC), parts.started_at),
            patient=parts.patient,
            general_practitioner=parts.general_practitioner,
            observations=observations,
            prescription_lines=prescribed.lines,
            prescription=prescribed.document,
            printed_copy=copy,
        )
    except ValidationError as exc:
        log_failure(f"session {parts.session_id}: its record is invalid", exc)
        return None


def log_failure(what: str, exc: BaseException) -> None:
    """Logs a failure without patient data: a validation error by its fields only (its
    message and traceback would show the values), anything else with its traceback."""
    if isinstance(exc, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        log.error("%s (%s)", what, ", ".join(fields))
    else:
        log.error("%s", what, exc_info=exc)


def _reference(cabin_id: str, document: PrescriptionDocument) -> dict[str, Any]:
    """The prescription without its PDF (too large for one frame)."""
    ref = PrescriptionDocument(
        number=document.number, sha256=document.digest, ref=f"cabin:{cabin_id}/{document.number}"
    )
    return ref.model_dump(mode="json")


def after_acknowledged(c: sqlite3.Connection) -> None:
    """Inside the outbox's acknowledgement transaction: for each record the hub now has,
    the session's printed documents go; its handover row goes once none is left but
    given-up ones."""
    rows = c.execute(
        "SELECT session_id FROM record_handovers h"
        " WHERE NOT EXISTS (SELECT 1 FROM hub_outbox o WHERE o.seq = h.outbox_seq)"
    ).fetchall()
    if not rows:
        return
    meta = c.execute("SELECT value FROM hub_link_meta WHERE name = 'prescription_seq'").fetchone()
    copied_through = int(meta[0]) if meta is not None else 0
    for row in rows:
        session_id = str(row[0])
        try:
            DocumentStore.remove_printed(c, session_id, copied_through)
            # A given-up document stays for its reprint, and goes with the purge.
            left = c.execute(
                "SELECT 1 FROM print_documents WHERE session_id = ? AND state != 'failed' LIMIT 1",
                (session_id,),
            ).fetchone()
        except sqlite3.OperationalError:
            left = None  # no printer table
        if left is None:
            c.execute("DELETE FROM record_handovers WHERE session_id = ?", (session_id,))
