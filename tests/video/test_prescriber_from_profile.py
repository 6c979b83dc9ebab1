"""The doctor's hub account (the profile the hub sends with doctor_attached) fills the
prescriber fields the console left empty."""

from __future__ import annotations

from hub.shared.wire import DoctorProfile
from video.printing import account_prescriber, with_account_prescriber

DOCTOR = DoctorProfile(id="d1", display_name="Dr Claire Martin", rpps="10003456786")


def test_empty_fields_come_from_the_account() -> None:
    data = {"prescriber": {"name": "", "address": "2 rue de Melun, 77000 Melun"}, "items": []}
    merged = with_account_prescriber(data, DOCTOR)
    assert merged["prescriber"] == {
        "name": "Dr Claire Martin",
        "specialty": "Médecine générale",
        "rpps": "10003456786",
        "address": "2 rue de Melun, 77000 Melun",
    }
    assert data["prescriber"]["name"] == ""  # the doctor's message is not changed


def test_what_the_doctor_typed_wins() -> None:
    data = {"prescriber": {"rpps": "10003456782", "specialty": "Pédiatrie"}}
    merged = with_account_prescriber(data, DOCTOR)
    assert merged["prescriber"]["rpps"] == "10003456782"
    assert merged["prescriber"]["specialty"] == "Pédiatrie"


def test_no_prescriber_block_gets_one_and_malformed_is_left_to_validation() -> None:
    assert with_account_prescriber({}, DOCTOR)["prescriber"]["rpps"] == "10003456786"
    assert with_account_prescriber({"prescriber": "x"}, DOCTOR) == {"prescriber": "x"}
    assert with_account_prescriber({"prescriber": {}}, None) == {"prescriber": {}}


def test_the_console_gets_the_account_fields_to_prefill() -> None:
    assert account_prescriber(DOCTOR) == {
        "name": "Dr Claire Martin",
        "specialty": "Médecine générale",
        "rpps": "10003456786",
    }
    no_rpps = DOCTOR.model_copy(update={"rpps": None})
    assert "rpps" not in account_prescriber(no_rpps)
    assert account_prescriber(None) == {}


FULL = DOCTOR.model_copy(
    update={
        "address": "2 rue de Melun, 77000 Melun, France",
        "phone": "+33123456789",
        "email": "c.martin@example.fr",
    }
)


def test_address_phone_and_email_come_from_the_account_too() -> None:
    merged = with_account_prescriber({"prescriber": {"phone": "+33 6 12 34 56 78"}}, FULL)
    assert merged["prescriber"]["address"] == "2 rue de Melun, 77000 Melun, France"
    assert merged["prescriber"]["email"] == "c.martin@example.fr"
    assert merged["prescriber"]["phone"] == "+33 6 12 34 56 78"  # typed: kept
    assert account_prescriber(FULL)["phone"] == "+33 1 23 45 67 89"  # as printed
