"""What a booking says about the patient and the slot, checked field by field.

The same checks for the coordinator's screen and a booking platform; each refused field
gets its own French message (``Problem``), and nothing is booked until all are right.
What is kept is what the cabin checks at the door: names and birth date (compared with
what the patient types), the reason (shown to the doctor), the sex (how the
prescription names an adult) and a phone to call the patient back.

Optionally, the patient's INS traits (birth name and first names as on the ID, birth
place code, INS number) and their own GP (name, RPPS, MSSanté address), for the
consultation record. Their checks are hub.shared.ins's (the same as at the cabin's
check-in), their messages its French ones: a wrong NIR key, an INS number that says
another sex or birth year or month, an impossible place code are refused on the field."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from hub.booking.errors import BookingInvalid, Problem
from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.practitioner import check_email, check_rpps, normalise_phone

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
    "birth_name": "le nom de naissance",
    "first_names": "les prénoms",
    "birth_place": "le lieu de naissance",
    "ins_number": "le numéro INS",
    "ins_kind": "le type de numéro INS",
    "gp_name": "le nom du médecin traitant",
    "gp_rpps": "le RPPS du médecin traitant",
    "gp_mssante": "l'adresse MSSanté du médecin traitant",
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
    "birth_name": "nom de naissance attendu (texte)",
    "first_names": "prénoms attendus (texte)",
    "birth_place": "code du lieu de naissance attendu (texte, ex. 77305)",
    "ins_number": "numéro INS attendu (texte, 15 caractères)",
    "ins_kind": "NIR ou NIA",
    "gp_name": "nom du médecin traitant attendu (texte)",
    "gp_rpps": "RPPS attendu (texte, 11 chiffres)",
    "gp_mssante": "adresse MSSanté attendue (texte)",
}
# The optional INS traits and GP: blank is "not given".
OPTIONAL_TEXT = (
    "birth_name",
    "first_names",
    "birth_place",
    "ins_number",
    "gp_name",
    "gp_rpps",
    "gp_mssante",
)


def _trait_check(name: str) -> TypeAdapter[Any]:
    """hub.shared.ins's own check of one Patient field, to reuse field by field."""
    annotation = Patient.model_fields[name].annotation
    assert annotation is not None
    return TypeAdapter(annotation)


_TRAIT = {name: _trait_check(name) for name in ("birth_place", "ins_number")}
# Where an error of the whole Patient (the INS number against the sex or the birth
# date) is shown.
_PATIENT_FIELDS = {"birth_name", "first_names", "birth_place", "ins_number", "birth_date", "sex"}
_GP_FIELDS = {"name": "gp_name", "rpps": "gp_rpps", "mssante": "gp_mssante"}


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
    # The INS traits, as on the ID (optional; the names above when not given).
    birth_name: str | None = Field(None, max_length=100)
    first_names: str | None = Field(None, max_length=100)
    birth_place: str | None = Field(None, max_length=16)
    ins_number: str | None = Field(None, max_length=32)
    ins_kind: Literal["NIR", "NIA"] = "NIR"
    # The patient's own GP (optional).
    gp_name: str | None = Field(None, max_length=100)
    gp_rpps: str | None = Field(None, max_length=20)
    gp_mssante: str | None = Field(None, max_length=254)

    @field_validator(*OPTIONAL_TEXT, mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("birth_name", "first_names")
    @classmethod
    def _ins_name(cls, value: str | None) -> str | None:
        return None if value is None else _clean_name(value)

    @field_validator("birth_place", "ins_number")
    @classmethod
    def _trait(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            checked: str = _TRAIT[str(info.field_name)].validate_python(value)
        except ValidationError as exc:
            raise ValueError(_message(exc.errors()[0])) from None
        return checked

    @field_validator("gp_name")
    @classmethod
    def _gp_name(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("caractères de contrôle interdits")
        return value

    @field_validator("gp_rpps")
    @classmethod
    def _rpps(cls, value: str | None) -> str | None:
        return None if value is None else check_rpps(value)

    @field_validator("gp_mssante")
    @classmethod
    def _mssante(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)

    def patient(self) -> Patient | None:
        """The patient with their INS traits, None when the booking gives none of them
        (raises pydantic's ValidationError when they do not hold together)."""
        traits = (self.birth_name, self.first_names, self.birth_place, self.ins_number)
        if all(t is None for t in traits):
            return None
        birth_name = self.birth_name or self.family_name
        # The name the patient goes by (and types at the cabin), when not their birth name.
        used = self.family_name if self.family_name.casefold() != birth_name.casefold() else None
        return Patient.model_validate(
            {
                "birth_name": birth_name,
                "first_names": self.first_names or self.given_name,
                "used_name": used,
                "birth_date": self.birth_date,
                "sex": self.sex,
                "birth_place": self.birth_place,
                "ins_number": self.ins_number,
                "ins_kind": self.ins_kind,
            }
        )

    def general_practitioner(self) -> GeneralPractitioner | None:
        """The patient's own GP, None when not given (ValueError: an RPPS or an address
        without a name)."""
        if self.gp_name is None:
            if self.gp_rpps is not None or self.gp_mssante is not None:
                raise ValueError(
                    "le nom du médecin traitant est obligatoire avec son RPPS ou son adresse"
                )
            return None
        return GeneralPractitioner(name=self.gp_name, rpps=self.gp_rpps, mssante=self.gp_mssante)

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
        return _clean_name(value)

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


def _clean_name(value: str) -> str:
    if not NAME.match(value):
        raise ValueError("lettres, espaces, traits d'union et apostrophes seulement")
    return re.sub(r"\s+", " ", value)


def parse_booking(data: Any, today: date) -> BookingIn:
    """``data`` (a decoded JSON body) as a booking request, or BookingInvalid listing
    every bad field. ``today``: the site's local date, for the birth date."""
    if not isinstance(data, dict):
        raise BookingInvalid("La demande doit être un objet JSON.")
    try:
        booking = BookingIn.model_validate(data, context={"today": today})
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise BookingInvalid(REFUSED, problems=problems) from None
    problems = identity_problems(booking)
    if problems:
        raise BookingInvalid(REFUSED, problems=problems)
    return booking


REFUSED = "Le rendez-vous n'est pas pris : corrigez les champs signalés."


def identity_problems(booking: BookingIn) -> list[Problem]:
    """What the INS traits and GP, each right on its own, get wrong together."""
    problems: list[Problem] = []
    try:
        booking.patient()
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            field = loc[0] if loc and loc[0] in _PATIENT_FIELDS else "ins_number"
            problems.append(_capital(field, _message(error)))
    try:
        booking.general_practitioner()
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            field = _GP_FIELDS.get(loc[0] if loc else "", "gp_name")
            problems.append(_capital(field, _message(error)))
    except ValueError as exc:
        problems.append(_capital("gp_name", str(exc)))
    return problems


def _message(error: Any) -> str:
    """The French message a check raised, without pydantic's "Value error, "."""
    cause = (error.get("ctx") or {}).get("error")
    return str(cause) if cause is not None else str(error["msg"])


def _capital(field: str, message: str) -> Problem:
    return Problem(field, message[:1].upper() + message[1:])


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
    return _capital(field, message)
