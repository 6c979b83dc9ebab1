"""Exports for inspectors: CSV and PDF of the entries since a date, with no patient data."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
from pathlib import Path

import pytest

from kiosk.cli import main

from .test_log import build_chain, raw


def test_csv_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cabin.sqlite3"
    written = build_chain(db, 3)
    assert main(["hygiene", "export", "--db", str(db), "--since", "2026-11-23"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["session_id"] == written[0].content["session_id"]
    assert rows[0]["referent"] == "Amélie Martin"
    assert rows[0]["steps"] == "siege 09:10:00"
    assert rows[1]["instruments_cleaned"] == "tensiometre"
    assert rows[2]["hash"] == written[2].hash
    # Nothing before the date; a later date gives only the header.
    assert main(["hygiene", "export", "--db", str(db), "--since", "2026-11-24"]) == 0
    assert capsys.readouterr().out.strip().count("\n") == 0


def test_bad_date_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cabin.sqlite3"
    build_chain(db, 1)
    assert main(["hygiene", "export", "--db", str(db), "--since", "23/11/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_pdf_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cabin.sqlite3"
    written = build_chain(db, 3)
    out = tmp_path / "registre.pdf"
    args = ["hygiene", "export", "--db", str(db), "--since", "2026-11-01", "--format", "pdf"]
    assert main([*args, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Registre de désinfection — cabine test-01" in text
    assert "intègre" in text and "Amélie Martin" in text
    assert written[0].content["session_id"][:12] in text
    # A broken chain says so on the PDF itself.
    conn = raw(db)
    conn.execute("DELETE FROM hygiene_log WHERE seq = 2")
    conn.close()
    assert main([*args, "-o", str(out)]) == 0
    assert "warning" in capsys.readouterr().err
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ALTÉRÉE à l'entrée 2" in text


def test_demo_day_makes_the_readme_export(tmp_path: Path) -> None:
    """The README's demo-day export comes from this run of the real flow."""
    from hygiene import demo_day

    repo = Path(__file__).resolve().parents[2]
    asyncio.run(demo_day.run(repo / "config" / "demo.toml", tmp_path / "demo"))
    db = tmp_path / "demo" / "cabin.sqlite3"
    assert main(["hygiene", "verify", "--db", str(db)]) == 0
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert (
        main(
            [
                "hygiene",
                "export",
                "--db",
                str(db),
                "--since",
                "2026-11-23",
                "-o",
                str(tmp_path / "day.csv"),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "day.csv").read_text())))
    assert [r["outcome"] for r in rows] == ["disinfected"] * 2 + ["anomaly"] + ["disinfected"] * 3
    for r in rows:  # the same rows as in the README, but for the random session ids/hashes
        assert f'{r["ended_at"]},"{r["referent"]}",{r["steps"]},' in readme
