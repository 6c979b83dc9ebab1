"""`kiosk print render|send|status` as a subprocess, on the real CUPS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.printer.conftest import REPO, needs_root, needs_system_cups
from tests.printer.cups_env import PrivateCups, pdf_text, remove_copies, wait_for_copies


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "print", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path, data: Any, name: str = "rx.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_render_writes_the_pdf(tmp_path: Path, prescription: dict[str, Any]) -> None:
    out = tmp_path / "out.pdf"
    done = kiosk("render", str(write(tmp_path, prescription)), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert prescription["number"] in done.stdout
    assert prescription["number"] in pdf_text(out)


def test_invalid_input_lists_every_problem_exit_2_nothing_written(
    tmp_path: Path, prescription: dict[str, Any]
) -> None:
    prescription["prescriber"]["rpps"] = "12345678901"
    prescription["items"][1]["medication"] = "Fentanyl 12 µg/h"
    del prescription["patient"]["birth_date"]
    out = tmp_path / "out.pdf"
    done = kiosk("render", str(write(tmp_path, prescription)), "-o", str(out))
    assert done.returncode == 2
    assert "prescriber.rpps:" in done.stderr
    assert "items.1.medication:" in done.stderr and "ordonnance sécurisée" in done.stderr
    assert "patient.birth_date: champ obligatoire" in done.stderr
    assert not out.exists()
    sent = kiosk("send", str(write(tmp_path, prescription)))
    assert sent.returncode == 2
    assert "3 problème(s)" in sent.stderr


def test_not_json_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"prescriber": ', encoding="utf-8")
    done = kiosk("render", str(path), "-o", str(tmp_path / "out.pdf"))
    assert done.returncode == 2
    assert "not JSON (line 1" in done.stderr


@needs_system_cups
def test_send_waits_for_the_completed_job(
    tmp_path: Path, prescription: dict[str, Any], test_start: float
) -> None:
    try:
        done = kiosk("send", str(write(tmp_path, prescription)), "--printer", "PDF")
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().endswith(": completed")
        copies = wait_for_copies(prescription["number"], test_start, 1, 30)
        assert len(copies) == 1
    finally:
        remove_copies(prescription["number"], test_start)


@needs_system_cups
def test_status_of_the_pdf_queue() -> None:
    done = kiosk("status", "--printer", "PDF")
    assert done.returncode == 0, done.stdout
    assert "state: idle (ready)" in done.stdout or "state: printing" in done.stdout


def test_status_unreachable_server(tmp_path: Path) -> None:
    done = kiosk("status", "--server", str(tmp_path / "no-cups.sock"))
    assert done.returncode == 1
    assert "state: unreachable" in done.stdout
    assert "ne répond pas" in done.stdout


@needs_root
def test_send_to_a_disabled_queue_fails_and_sends_nothing(
    tmp_path: Path, private_cups: PrivateCups, prescription: dict[str, Any]
) -> None:
    private_cups.disable()
    try:
        done = kiosk(
            "send", str(write(tmp_path, prescription)), "--server", str(private_cups.socket)
        )
        assert done.returncode == 1
        assert "cupsenable PDF" in done.stdout
        assert "Rien n'a été envoyé" in done.stdout
        status = kiosk("status", "--server", str(private_cups.socket))
        assert status.returncode == 1
        assert "paused" in status.stdout
    finally:
        private_cups.enable()
