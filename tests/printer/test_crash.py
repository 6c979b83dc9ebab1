"""Invariant 2 across SIGKILL: a stored prescription prints after a restart, exactly once."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.kiosk.process import DaemonProcess
from tests.printer.conftest import needs_root, write_cabin_config
from tests.printer.cups_env import PrivateCups, printed_copies, remove_copies, wait_for_copies

pytestmark = needs_root

PRINT_TIMEOUT_S = 60.0


class PrintDaemonProcess(DaemonProcess):
    """DaemonProcess running tests.printer.print_daemon (the daemon + a submit route)."""

    def __init__(self, config: Path, state_dir: Path) -> None:
        super().__init__(config, state_dir, module="tests.printer.print_daemon")


def document(state_dir: Path, doc_id: str) -> dict[str, Any]:
    conn = sqlite3.connect(state_dir / "cabin.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM print_documents WHERE id = ?", (doc_id,)).fetchone()
        return dict(row)
    finally:
        conn.close()


def wait_doc(state_dir: Path, doc_id: str, done: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        row = document(state_dir, doc_id)
        if done(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.02)


def test_sigkill_between_store_and_print_prints_one_copy(
    tmp_path: Path, private_cups: PrivateCups, prescription: dict[str, Any], test_start: float
) -> None:
    number = prescription["number"]
    config = write_cabin_config(tmp_path, str(private_cups.socket))
    state_dir = tmp_path / "state"
    private_cups.disable()  # the document stays stored, not printed
    daemon = PrintDaemonProcess(config, state_dir)
    try:
        code, body = daemon.post("/test/prescription", prescription)
        assert code == 201, body
        doc_id = body["document_id"]
        row = wait_doc(state_dir, doc_id, lambda r: r["state"] == "retrying", 30)
        assert row["state"] == "retrying"
        assert row["cups_job_id"] is None
        daemon.kill()  # SIGKILL
        private_cups.enable()
        assert printed_copies(number, test_start) == []
        daemon = PrintDaemonProcess(config, state_dir)
        row = wait_doc(state_dir, doc_id, lambda r: r["state"] == "completed", PRINT_TIMEOUT_S)
        assert row["state"] == "completed"
        assert len(wait_for_copies(number, test_start, 1, PRINT_TIMEOUT_S)) == 1
        status = daemon.get("/api/status")["printer"]
        assert status["pending"] == 0
        daemon.terminate()
        assert len(printed_copies(number, test_start)) == 1
    finally:
        if daemon.proc.poll() is None:
            daemon.kill()
        private_cups.enable()
        remove_copies(number, test_start)


def test_sigkill_once_the_job_is_sent_never_prints_twice(
    tmp_path: Path, private_cups: PrivateCups, prescription: dict[str, Any], test_start: float
) -> None:
    number = prescription["number"]
    config = write_cabin_config(tmp_path, str(private_cups.socket))
    state_dir = tmp_path / "state"
    daemon = PrintDaemonProcess(config, state_dir)
    try:
        code, body = daemon.post("/test/prescription", prescription)
        assert code == 201, body
        doc_id = body["document_id"]
        # Kill as soon as the CUPS job id is committed: before or after the document
        # reached CUPS, a restart must end with exactly one printed copy.
        row = wait_doc(state_dir, doc_id, lambda r: r["cups_job_id"] is not None, 30)
        daemon.kill()
        assert row["cups_job_id"] is not None
        daemon = PrintDaemonProcess(config, state_dir)
        row = wait_doc(state_dir, doc_id, lambda r: r["state"] == "completed", PRINT_TIMEOUT_S)
        assert row["state"] == "completed"
        daemon.terminate()
        copies = wait_for_copies(number, test_start, 2, 3.0)  # give a duplicate time to show
        assert len(copies) == 1
    finally:
        if daemon.proc.poll() is None:
            daemon.kill()
        remove_copies(number, test_start)
