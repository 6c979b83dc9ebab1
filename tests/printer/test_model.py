"""The prescription model: every mention required, RPPS check digit, secure paper."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hub.shared.practitioner import luhn_valid, normalise_phone
from hub.shared.prescription import parse_prescription
from hub.shared.secure_paper import secure_paper_substance
from printer.errors import PrescriptionInvalid
from tests.printer.conftest import sample_prescription


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(PrescriptionInvalid) as caught:
        parse_prescription(data)
    return {p["path"]: p["message"] for p in caught.value.problems}


def test_the_sample_is_valid_and_gets_a_stable_number() -> None:
    rx = parse_prescription(sample_prescription())
    assert rx.prescriber.rpps == "10001234565"
    assert rx.prescriber.phone == "+33164000000"
    assert rx.prescription_number.startswith("ORD-")
    assert parse_prescription(sample_prescription()).number == rx.number
    other = sample_prescription()
    other["items"][0]["posology"] = "1 comprimé le soir"
    assert parse_prescription(other).number != rx.number


@pytest.mark.parametrize(
    "path",
    [
        "prescriber.name",
        "prescriber.specialty",
        "prescriber.rpps",
        "prescriber.address",
        "prescriber.phone",
        "prescriber.email",
        "patient.family_name",
        "patient.given_name",
        "patient.sex",
        "patient.birth_date",
        "items.0.medication",
        "items.0.posology",
        "issued_at",
    ],
)
def test_every_mention_is_required(path: str) -> None:
    data = sample_prescription()
    *parents, leaf = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[leaf]
    found = problems(data)
    assert found == {path: "champ obligatoire"}


def test_duration_or_quantity_is_required() -> None:
    data = sample_prescription()
    del data["items"][1]["duration"]
    assert problems(data) == {"items.1.duration": "indiquez la durée du traitement ou la quantité"}


def test_at_least_one_item() -> None:
    data = sample_prescription()
    data["items"] = []
    assert "items" in problems(data)


def test_weight_is_required_for_a_child() -> None:
    data = sample_prescription()
    data["patient"]["birth_date"] = "2011-05-01"
    del data["patient"]["weight_kg"]
    assert "patient.weight_kg" in problems(data)
    data["patient"]["weight_kg"] = 48
    parse_prescription(data)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("10001234565", True), ("10102030409", True), ("10001234566", False), ("1000123456", False)],
)
def test_rpps_luhn(number: str, valid: bool) -> None:
    data = sample_prescription()
    data["prescriber"]["rpps"] = number
    if valid:
        assert parse_prescription(data).prescriber.rpps == number
    else:
        assert "prescriber.rpps" in problems(data)


def test_luhn_function() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("7992739871x")


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("01 64 00 00 00", "+33164000000"),
        ("01.64.00.00.00", "+33164000000"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
    ],
)
def test_phone_is_normalised_to_plus_33(given: str, normalised: str) -> None:
    assert normalise_phone(given) == normalised


@pytest.mark.parametrize("bad", ["12345", "+44 20 7946 0958", "06 12 34", "00 00 00 00 00"])
def test_bad_phone_is_refused(bad: str) -> None:
    data = sample_prescription()
    data["prescriber"]["phone"] = bad
    assert "prescriber.phone" in problems(data)


def test_address_must_say_france() -> None:
    data = sample_prescription()
    data["prescriber"]["address"] = "12 rue Saint-Éloi, 77000 Melun"
    assert "France" in problems(data)["prescriber.address"]


@pytest.mark.parametrize(
    "medication",
    [
        "Morphine sulfate 10 mg, gélule",
        "MÉTHYLPHÉNIDATE 10 mg",
        "Skenan LP 30 mg",
        "Oxycodone 5 mg",
        "Fentanyl 25 µg/h, dispositif transdermique",
        "Ritaline 10 mg",
        "Zolpidem 10 mg",
    ],
)
def test_stupefiant_is_refused_with_another_channel(medication: str) -> None:
    data = sample_prescription()
    data["items"][2]["medication"] = medication
    message = problems(data)["items.2.medication"]
    assert "ordonnance sécurisée" in message
    assert "autre canal" in message


@pytest.mark.parametrize(
    "medication", ["Paracétamol 1 g", "Hydroxyzine 25 mg", "Codéine/paracétamol 30/500"]
)
def test_ordinary_medicines_are_accepted(medication: str) -> None:
    assert secure_paper_substance(medication) is None


def test_every_problem_is_listed_with_its_path() -> None:
    data = copy.deepcopy(sample_prescription())
    data["prescriber"]["rpps"] = "10001234566"
    data["prescriber"]["email"] = "pas-un-email"
    data["patient"]["sex"] = "Z"
    data["patient"]["birth_date"] = "02/03/1948"
    data["items"][0]["medication"] = "Morphine 10 mg"
    data["items"][1]["renewals"] = -1
    data["issued_at"] = "hier"
    data["unknown"] = 1
    found = problems(data)
    assert set(found) == {
        "prescriber.rpps",
        "prescriber.email",
        "patient.sex",
        "patient.birth_date",
        "items.0.medication",
        "items.1.renewals",
        "issued_at",
        "unknown",
    }
    assert found["unknown"] == "champ inconnu"


def test_not_an_object() -> None:
    assert problems([1, 2]) == {"(ordonnance)": "objet JSON attendu"}
