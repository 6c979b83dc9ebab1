"""The printed documents read as French: decimal comma, French dates, and a civility that
follows the patient (none for a child, none when the sex is not known). Every check reads
the text back out of the rendered PDF with pdftotext."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.shared.prescription import parse_prescription
from printer.render import render_prescription
from tests.printer.conftest import child_prescription, sample_prescription, text_of

ISSUED = "2026-11-23T10:30:00+01:00"  # the samples' date
# A figure written with a decimal point: never on a French document.
DECIMAL_POINT = re.compile(r"\d\.\d")


def lines_of(pdf: bytes, tmp_path: Path) -> list[str]:
    return [" ".join(line.split()) for line in text_of(pdf, tmp_path).splitlines()]


def prescription_lines(data: dict[str, Any], tmp_path: Path) -> list[str]:
    return lines_of(render_prescription(parse_prescription(data)), tmp_path)


def test_a_seven_year_old_prints_21_4_kg_and_no_adult_civility(tmp_path: Path) -> None:
    lines = prescription_lines(child_prescription(), tmp_path)
    assert "Patient : Lucas Martin" in lines
    assert "Né le 12/05/2019 (7 ans) — sexe masculin — poids : 21,4 kg — taille : 122,5 cm" in lines
    text = "\n".join(lines)
    assert "M. Lucas" not in text
    assert "Mme" not in text
    assert DECIMAL_POINT.search(text) is None
    assert "Lucas Martin, né le 12/05/2019" in text  # the footer of every page
    assert "Le 23 novembre 2026" in lines


def test_an_adult_keeps_her_civility(tmp_path: Path) -> None:
    lines = prescription_lines(sample_prescription(), tmp_path)
    assert "Patient : Mme Hélène Dupont" in lines
    assert "Née le 02/03/1948 (78 ans) — sexe féminin — poids : 62 kg" in lines


@pytest.mark.parametrize(
    ("birth_date", "patient_line"),
    [
        ("2008-11-24", "Patient : Lucas Martin"),  # 18 tomorrow
        ("2008-11-23", "Patient : M. Lucas Martin"),  # 18 today
    ],
)
def test_the_civility_comes_at_eighteen(tmp_path: Path, birth_date: str, patient_line: str) -> None:
    data = child_prescription()
    data["patient"]["birth_date"] = birth_date
    assert patient_line in prescription_lines(data, tmp_path)


@pytest.mark.parametrize(
    ("birth_date", "age"),
    [
        ("2024-11-23", "2 ans"),
        ("2024-11-24", "23 mois"),
        ("2025-06-10", "17 mois"),
        ("2026-10-23", "1 mois"),
        ("2026-10-24", "30 jours"),
        ("2026-11-22", "1 jour"),
    ],
)
def test_a_small_child_is_given_an_age_in_months_or_days(
    tmp_path: Path, birth_date: str, age: str
) -> None:
    data = child_prescription()
    data["patient"].update(birth_date=birth_date, weight_kg=3.35, height_cm=50)
    born = "/".join(reversed(birth_date.split("-")))
    details = f"Né le {born} ({age}) — sexe masculin — poids : 3,35 kg — taille : 50 cm"
    assert details in prescription_lines(data, tmp_path)


@pytest.mark.parametrize(
    ("weight", "height", "printed"),
    [
        (21.4, 122.5, "poids : 21,4 kg — taille : 122,5 cm"),
        (0.8, 35.2, "poids : 0,8 kg — taille : 35,2 cm"),
        (100, 180, "poids : 100 kg — taille : 180 cm"),
        (72.35, 175.0, "poids : 72,35 kg — taille : 175 cm"),
    ],
)
def test_weight_and_height_are_printed_exactly_with_a_comma(
    tmp_path: Path, weight: float, height: float, printed: str
) -> None:
    data = child_prescription()
    data["patient"].update(weight_kg=weight, height_cm=height)
    assert printed in " ".join(prescription_lines(data, tmp_path))


def test_the_first_of_the_month_is_1er(tmp_path: Path) -> None:
    data = child_prescription()
    data["issued_at"] = "2026-12-01T09:05:00+01:00"
    lines = prescription_lines(data, tmp_path)
    assert "Le 1er décembre 2026" in lines
    assert "Signé électroniquement par Dr Élise Lefèvre le 1er décembre 2026 à 09:05" in lines
