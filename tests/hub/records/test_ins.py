"""INS identity traits and the patient's GP: what is refused, and with which message."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.shared.ins import (
    INS_OID_NIA,
    INS_OID_NIR,
    GeneralPractitioner,
    Patient,
    check_ins_number,
    nir_key,
)

# 2 62 08 75 032 039 77: the worked example of a key (97 - 2620875032039 mod 97 = 77).
HELENE = "2 62 08 75 032 039 77"


def patient(**changes: Any) -> Patient:
    data: dict[str, Any] = {
        "birth_name": "Dupont",
        "first_names": "Hélène Marie",
        "birth_date": "1962-08-14",
        "sex": "F",
        "birth_place": "75056",
        "ins_number": HELENE,
    }
    data.update(changes)
    return Patient.model_validate(data)


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " | ".join(str(e["msg"]) for e in exc.value.errors())


def test_the_worked_example_is_accepted_and_compacted() -> None:
    p = patient()
    assert p.ins_number == "262087503203977"
    assert p.ins_oid == INS_OID_NIR
    assert patient(ins_kind="NIA").ins_oid == INS_OID_NIA
    assert p.display_name == "Hélène Marie DUPONT"


def test_a_wrong_key_is_refused_saying_the_expected_one() -> None:
    with pytest.raises(ValidationError) as exc:
        patient(ins_number="2 62 08 75 032 039 12")
    assert "clé du NIR incorrecte : attendu 77, reçu 12" in messages(exc)
    with pytest.raises(ValueError, match="attendu 77, reçu 78"):
        check_ins_number("262087503203978")


@pytest.mark.parametrize(
    ("number", "key"),
    [("155052A123456", 48), ("292102B004007", 80)],  # 2A read as 19, 2B as 18
)
def test_corsica_counts_as_19_and_18(number: str, key: int) -> None:
    assert nir_key(number) == key
    assert check_ins_number(f"{number}{key:02d}") == f"{number}{key:02d}"
    with pytest.raises(ValueError, match="clé du NIR incorrecte"):
        check_ins_number(f"{number}{(key + 1) % 97:02d}")


def test_a_short_or_lettered_number_is_refused() -> None:
    with pytest.raises(ValueError, match="15 caractères"):
        check_ins_number("26208750320397")
    with pytest.raises(ValueError, match="chiffres attendus"):
        check_ins_number("2620875X3203977")


def test_a_birth_date_in_the_future_is_refused() -> None:
    tomorrow = date.today() + timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        patient(birth_date=tomorrow.isoformat(), ins_number=None)
    assert "date de naissance dans le futur" in messages(exc)


@pytest.mark.parametrize("day", ["1962-02-30", "1962-13-01", "1850-01-01"])
def test_an_impossible_birth_date_is_refused(day: str) -> None:
    with pytest.raises(ValidationError):
        patient(birth_date=day, ins_number=None)


def test_the_nir_must_agree_with_sex_year_and_month() -> None:
    with pytest.raises(ValidationError) as exc:
        patient(sex="M")
    assert "le numéro INS indique le sexe féminin" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        patient(birth_date="1963-08-14")
    assert "naissance en …62" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        patient(birth_date="1962-09-14")
    assert "le mois de naissance 08" in messages(exc)


@pytest.mark.parametrize("month", ["20", "42", "50", "99"])
def test_the_unknown_month_forms_are_accepted(month: str) -> None:
    body = f"262{month}75032039"
    p = patient(ins_number=f"{body}{nir_key(body):02d}")
    assert p.ins_number is not None


def test_an_impossible_nir_month_is_refused() -> None:
    body = "2621375032039"
    with pytest.raises(ValidationError) as exc:
        patient(ins_number=f"{body}{nir_key(body):02d}")
    assert "mois de naissance impossible" in messages(exc)


def test_a_walk_in_gives_only_a_name_and_a_birth_date() -> None:
    p = Patient(birth_name="Martin", first_names="Paul", birth_date=date(1950, 1, 2))
    assert p.ins_oid is None and p.sex is None and p.birth_place is None


@pytest.mark.parametrize("code", ["77305", "2A004", "2B033", "99350"])
def test_birth_place_codes(code: str) -> None:
    assert patient(birth_place=code.lower()).birth_place == code


@pytest.mark.parametrize("code", ["7730", "3A004", "773055", "PARIS"])
def test_bad_birth_place_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        patient(birth_place=code)
    assert "code officiel géographique" in messages(exc)


def test_the_gp_rpps_is_luhn_checked_and_mssante_optional() -> None:
    gp = GeneralPractitioner(name="Dr Anne Roux", rpps="10001234565",
                             mssante="anne.roux@medecin.mssante.fr")  # fmt: skip
    assert gp.mssante_domain
    assert not GeneralPractitioner(name="Dr Roux", mssante="a.roux@example.org").mssante_domain
    assert GeneralPractitioner(name="Dr Roux").rpps is None
    with pytest.raises(ValidationError, match="clé de contrôle"):
        GeneralPractitioner(name="Dr Roux", rpps="10001234566")
    with pytest.raises(ValidationError, match="adresse e-mail invalide"):
        GeneralPractitioner(name="Dr Roux", mssante="roux@")


@given(st.from_regex(r"[12]\d{4}(\d{2}|2A|2B)\d{6}", fullmatch=True), st.integers(1, 97))
def test_only_the_right_key_is_accepted(body: str, key: int) -> None:
    digits = int(body.replace("2A", "19").replace("2B", "18"))
    right = 97 - digits % 97
    if key == right:
        assert check_ins_number(f"{body}{key:02d}") == f"{body}{key:02d}"
    else:
        with pytest.raises(ValueError, match=f"attendu {right:02d}, reçu {key:02d}"):
            check_ins_number(f"{body}{key:02d}")
