"""The PDF report, read back with pdftotext: French numbers, every section, the signature."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.shared.record import Report, sign
from hub.shared.report_pdf import render_report
from tests.hub.records.sample import END_OFFSET, START, sample_record

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils")


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         check=True, text=True)  # fmt: skip
    return " ".join(out.stdout.split())


def test_the_signed_report_reads_back(tmp_path: Path) -> None:
    record = sign(sample_record(), START + END_OFFSET)
    pdf = render_report(record)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf, tmp_path)
    for expected in [
        "Compte rendu de téléconsultation",
        "Le 23 novembre 2026 à 10 h 05, cabine : Mairie de Nangis",
        "Dr Élise Lefèvre — RPPS 10001234565",
        "Patient : Hélène Marie DUPONT, née le 02/03/1948",
        "INS (NIR) : 2 48 03 2A 004 017 50",
        "Médecin traitant : Dr Anne Roux",
        "Motif de consultation Fièvre depuis 3 jours, toux",
        "Poids 62,4 kg",
        "Pression artérielle systolique 142 mmHg",
        "Pression artérielle diastolique 88 mmHg",
        "SpO2 97 %",
        "Température 37,8 °C",
        "Conclusion Bronchite aiguë probablement virale",
        "Suivi Revoir son médecin traitant sous 48 h si la fièvre persiste",
        "1. Paracétamol 1 g, comprimé",
        "à renouveler 2 fois",
        "Signé par Dr Élise Lefèvre le 23 novembre 2026 à 10 h 27",
    ]:
        assert expected in text, expected
    assert "BROUILLON" not in text
    assert "Battery" not in text and "Glycémie" not in text  # no value, not a result
    assert render_report(record) == pdf  # same record, same bytes


def test_a_draft_says_it_is_not_signed(tmp_path: Path) -> None:
    text = text_of(render_report(sample_record(report=Report(reason="Toux"))), tmp_path)
    assert "BROUILLON — compte rendu non signé" in text
    assert "Signé par" not in text
    assert "Conclusion" not in text


RENDER_ALONE = """
import sys
from hub.shared.record import ConsultationRecord
from hub.shared.report_pdf import render_report
record = ConsultationRecord.model_validate_json(open(sys.argv[1], encoding="utf-8").read())
sys.stdout.buffer.write(render_report(record))
"""


def test_a_process_that_printed_nothing_before_renders_it(tmp_path: Path) -> None:
    """As the hub does, with no prescription rendered first to register the fonts."""
    source = tmp_path / "record.json"
    source.write_text(sign(sample_record(), START + END_OFFSET).model_dump_json(), "utf-8")
    repo = Path(__file__).parents[3]
    command = [sys.executable, "-c", RENDER_ALONE, str(source)]
    done = subprocess.run(command, capture_output=True, check=False, cwd=repo)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert "Compte rendu de téléconsultation" in text_of(done.stdout, tmp_path)


def test_the_footer_keeps_the_number_and_the_mention_apart(tmp_path: Path) -> None:
    """A record's number is a consultation id, 32 characters: beside the mention it ran
    into it; a short one stays on the mention's line."""
    long_id = sample_record().model_copy(update={"record_id": "71670b9603624eba81eaabccb003255b"})
    record = sign(long_id, START + END_OFFSET)
    path = tmp_path / "report.pdf"
    path.write_bytes(render_report(record))
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         check=True, text=True).stdout  # fmt: skip
    numbered = [line for line in out.splitlines() if f"n° {record.record_id}" in line]
    mention = [line for line in out.splitlines() if "établi dans le cadre" in line]
    assert numbered and mention and not set(numbered) & set(mention), out[-600:]
    short = render_report(sign(sample_record(), START + END_OFFSET))
    path.write_bytes(short)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         check=True, text=True).stdout  # fmt: skip
    lines = out.splitlines()
    assert any("n° rec-0001" in line and "établi dans le cadre" in line for line in lines)
