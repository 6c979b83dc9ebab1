"""What a booking says about the patient and the slot, checked field by field.

The same checks for the coordinator's screen and a booking platform; each refused field
gets its own French message (``Problem``), and nothing is booked until all are right.
What is kept is what the cabin checks at the door: names and birth date (compared with
what the patient types), the reason (shown to the doctor), the sex (how the
prescription names an adult) and a phone to call the patient back."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from hub.booking.errors import BookingInvalid, Problem
from hub.shared.practitioner import normalise_phone

# The oldest patient one may book for; an older birth date is a typing error.
MAX_AGE_YEARS = 120
# Letters of any alphabet, then letters, spaces, hyphens, apostrophes and dots
# (N'Diaye, Saint-Éloi, de La Fontaine, Marie-Thé.).
NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.\-])*$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LABELS = {
    "site": "le site",
    "start": "le créneau",
    "family_name": "le nom",
    "given_name": "le prénom",
    "birth_date": "la date de naissance",
    "phone": "le téléphone",
    "reason": "le motif",
    "sex": "le sexe",
}
# What a field expects, for a value of the wrong kind.
EXPECTED = {
    "site": "code de site attendu (par exemple NAN231)",
    "start": "début du créneau attendu, avec son fuseau (2026-03-02T09:00:00+01:00)",
    "family_name": "nom attendu (texte)",
    "given_name": "prénom attendu (texte)",
    "birth_date": "date de naissance invalide : AAAA-MM-JJ attendu (1948-03-02)",
    "phone": "numéro de téléphone attendu (texte)",
    "reason": "motif attendu (texte)",
    "sex": "F, M ou rien",
}


class BookingIn(BaseModel):
    """A request to book: the slot (site and start) and the patient."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    site: str = Field(min_length=1, max_length=16)
    start: datetime
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    phone: str = Field(min_length=1, max_length=30)
    reason: str = Field(min_length=1, max_length=500)
    sex: Literal["F", "M"] | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> datetime:
        if not isinstance(value, str):
            raise ValueError(EXPECTED["start"])  # noqa: TRY004 - pydantic reports ValueError
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(EXPECTED["start"]) from None
        if parsed.tzinfo is None:
            raise ValueError("le début du créneau doit indiquer son fuseau (+01:00, Z...)")
        return parsed

    @field_validator("family_name", "given_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("lettres, espaces, traits d'union et apostrophes seulement")
        return re.sub(r"\s+", " ", value)

    @field_validator("birth_date", mode="before")
    @classmethod
    def _birth_format(cls, value: Any) -> Any:
        # Only an ISO date: pydantic would also take a number of seconds or a datetime.
        if not isinstance(value, str) or not ISO_DATE.match(value.strip()):
            raise ValueError(EXPECTED["birth_date"])  # pydantic reports only ValueError
        return value.strip()

    @field_validator("birth_date")
    @classmethod
    def _birth_plausible(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if isinstance(today, date):
            if value > today:
                raise ValueError("la date de naissance ne peut pas être dans le futur")
            if today.year - value.year > MAX_AGE_YEARS:
                raise ValueError(f"date de naissance invalide (plus de {MAX_AGE_YEARS} ans)")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("sex", mode="before")
    @classmethod
    def _no_sex_given(cls, value: Any) -> Any:
        return None if value == "" else value


def parse_booking(data: Any, today: date) -> BookingIn:
    """``data`` (a decoded JSON body) as a booking request, or BookingInvalid listing
    every bad field. ``today``: the site's local date, for the birth date."""
    if not isinstance(data, dict):
        raise BookingInvalid("La demande doit être un objet JSON.")
    try:
        return BookingIn.model_validate(data, context={"today": today})
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise BookingInvalid(
            "Le rendez-vous n'est pas pris : corrigez les champs signalés.", problems=problems
        ) from None


def _problem(error: Any) -> Problem:
    field = ".".join(str(p) for p in error["loc"]) or "(corps)"
    kind = error["type"]
    if kind == "missing":
        message = f"{LABELS.get(field, field)} est obligatoire"
    elif kind == "string_too_short":
        message = f"{LABELS.get(field, field)} ne peut pas être vide"
    elif kind == "string_too_long":
        message = f"trop long ({error['ctx']['max_length']} caractères au plus)"
    elif kind == "extra_forbidden":
        message = "champ inconnu"
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = EXPECTED.get(field, "valeur invalide")
    return Problem(field, message[:1].upper() + message[1:])
