"""Pure check-in rules: the age rule, matching a typed identity against an appointment,
and the request bodies. No I/O, no patient data in any message."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AgeVerdict = Literal["adult", "minor_with_representative", "needs_representative", "too_young"]


def age_on(birth_date: date, today: date) -> int:
    """Full years between birth and today."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_verdict(
    age: int, representative_present: bool, *, min_age: int, minor_min_age: int
) -> AgeVerdict:
    """Adults check in alone; minors from ``minor_min_age`` (over 14) only with a legal
    representative confirming; younger children are refused."""
    if age >= min_age:
        return "adult"
    if age < minor_min_age:
        return "too_young"
    return "minor_with_representative" if representative_present else "needs_representative"


def fold_name(name: str) -> str:
    """A name as compared: case, accents, hyphens, apostrophes and spaces ignored
    ("Hélène-Marie" matches "helene marie")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in letters if c.isalnum())


def same_person(
    family_name: str,
    given_name: str,
    birth_date: date,
    *,
    appt_family: str,
    appt_given: str,
    appt_birth: date,
) -> bool:
    return (
        birth_date == appt_birth
        and fold_name(family_name) == fold_name(appt_family)
        and fold_name(given_name) == fold_name(appt_given)
    )


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CodeIn(_Body):
    code: str = Field(pattern=r"^[0-9]{6}$")


class IdentityIn(_Body):
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    representative_present: bool = False

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("the birth date is in the future")
        if value.year < 1900:
            raise ValueError("the birth date is too far in the past")
        return value


class DetailsIn(_Body):
    """The optional INS traits and GP the patient gives at the touchscreen. Only their
    size is checked here: hub.shared.ins checks them (its French message is shown)."""

    ins_number: str | None = Field(None, max_length=32)
    birth_place: str | None = Field(None, max_length=16)
    sex: Literal["F", "M", "I"] | None = None
    gp_name: str | None = Field(None, max_length=100)
    gp_mssante: str | None = Field(None, max_length=254)


class ConsentIn(_Body):
    teleconsultation: bool
    data_processing: bool


Pregnancy = Literal["yes", "no", "unknown", "not_applicable"]


class QuestionnaireIn(_Body):
    reason: str = Field(min_length=1, max_length=500)
    allergies: str = Field("", max_length=500)
    treatments: str = Field("", max_length=500)
    pregnancy: Pregnancy = "not_applicable"


class ChatIn(_Body):
    text: str = Field(min_length=1, max_length=500)


class PinIn(_Body):
    pin: str = Field(pattern=r"^[0-9]{4,12}$")


# The questionnaire as the (French) doctor reads it. The screen sends stable keys.
REASONS_FR = {
    "fever_cough": "Fièvre, toux, rhume",
    "pain": "Douleur",
    "renewal": "Renouvellement d'ordonnance",
    "other": "Autre motif",
}
ANSWERS_FR = {
    "yes": "Oui",
    "no": "Non",
    "unknown": "Ne sait pas",
    "not_applicable": "Non concernée",
}
QUESTIONS_FR = {
    "allergies": "Allergies médicamenteuses",
    "treatments": "Traitement quotidien",
    "pregnancy": "Grossesse possible",
}


def answers_for_doctor(answers: dict[str, object]) -> tuple[str, dict[str, str]]:
    """(reason, {question: answer}) in plain French for the doctor console."""
    raw = str(answers.get("reason", ""))
    reason = REASONS_FR.get(raw, raw)
    shown: dict[str, str] = {}
    booked = str(answers.get("booked_reason") or "")
    if booked:
        shown["Motif donné à la prise de rendez-vous"] = booked
    for key, question in QUESTIONS_FR.items():
        if key in answers:
            value = str(answers[key])
            shown[question] = ANSWERS_FR.get(value, value)
    return reason, shown
