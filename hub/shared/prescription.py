"""The prescription model: every mention of article R.5132-3 of the Code de la santé
publique, validated. `parse_prescription` turns the JSON the doctor console sends into a
`Prescription` or raises `PrescriptionInvalid` listing every problem with its path."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from hub.shared.document_errors import PrescriptionInvalid, Problem
from hub.shared.practitioner import (
    check_address,
    check_email,
    check_rpps,
    normalise_phone,
)
from hub.shared.secure_paper import secure_paper_message, secure_paper_substance

# Naive dates from the console are French local time.
PARIS = ZoneInfo("Europe/Paris")
# Age under which weight is a required mention (posology by weight).
CHILD_AGE_YEARS = 18
MAX_ITEMS = 40
NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9-]{5,39}$"


def _no_controls(value: str) -> str:
    """Refuse control characters (keeping line breaks and tabs in free text)."""
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t\r" for c in value):
        raise ValueError("caractères de contrôle interdits")
    return value


Text = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_no_controls)]
LongText = Annotated[str, AfterValidator(_no_controls)]


def _check_png(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError("image de signature : base64 invalide") from None
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("image de signature : une image PNG est attendue")
    try:
        with PILImage.open(io.BytesIO(raw)) as img:
            img.load()
    except (OSError, SyntaxError, ValueError):
        raise ValueError("image de signature : PNG illisible") from None
    return value


def _upper_sex(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Prescriber(_Strict):
    name: Text  # "Dr Marie Curie": printed as given
    specialty: Text  # qualification, e.g. "Médecine générale"
    rpps: Annotated[str, AfterValidator(check_rpps)]
    address: Annotated[Text, AfterValidator(check_address)]
    phone: Annotated[str, AfterValidator(normalise_phone)]
    email: Annotated[Text, AfterValidator(check_email)]
    # Optional handwritten signature (base64 PNG); the signed mention is always printed.
    signature_png: Annotated[str, AfterValidator(_check_png)] | None = None


class Patient(_Strict):
    family_name: Text
    given_name: Text
    sex: Annotated[Literal["F", "M"], BeforeValidator(_upper_sex)]
    birth_date: date
    weight_kg: float | None = Field(None, gt=0, le=400)
    height_cm: float | None = Field(None, gt=20, le=260)

    @field_validator("birth_date")
    @classmethod
    def _plausible_year(cls, value: date) -> date:
        if value.year < 1900:
            raise ValueError("date de naissance invalide")
        return value

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class Item(_Strict):
    medication: Text  # INN (DCI) with strength and form
    posology: Annotated[LongText, Field(min_length=1, max_length=1000)]
    duration: Text | None = None
    quantity: Text | None = None
    renewals: int = Field(0, ge=0, le=12)
    non_substitutable: bool = False

    @field_validator("medication")
    @classmethod
    def _plain_paper_only(cls, value: str) -> str:
        substance = secure_paper_substance(value)
        if substance is not None:
            raise ValueError(secure_paper_message(value, substance))
        return value


class Prescription(_Strict):
    prescriber: Prescriber
    patient: Patient
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)
    issued_at: datetime
    notes: Annotated[LongText, Field(max_length=4000)] | None = None
    # Unique number carried by the QR code; derived from the content when not given.
    number: Annotated[str, Field(pattern=NUMBER_PATTERN)] | None = None

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=PARIS)

    @property
    def prescription_number(self) -> str:
        assert self.number is not None  # set by parse_prescription
        return self.number


def content_number(prefix: str, payload: Mapping[str, Any]) -> str:
    """A stable unique number: the same content always gets the same number."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:12].upper()
    return f"{prefix}-{digest[:4]}-{digest[4:8]}-{digest[8:]}"


def parse_prescription(data: Any) -> Prescription:
    """Validate the console's JSON; raise PrescriptionInvalid listing every problem."""
    if not isinstance(data, Mapping):
        raise PrescriptionInvalid([{"path": "(ordonnance)", "message": "objet JSON attendu"}])
    problems: list[Problem] = []
    parsed: Prescription | None = None
    try:
        parsed = Prescription.model_validate(dict(data))
    except ValidationError as exc:
        problems += problems_from(exc)
    problems += _cross_checks(data)
    if problems or parsed is None:
        raise PrescriptionInvalid(_dedupe(problems))
    if parsed.number is None:
        body = parsed.model_dump(mode="json", exclude={"number"})
        parsed = parsed.model_copy(update={"number": content_number("ORD", body)})
    return parsed


def _cross_checks(data: Mapping[str, Any]) -> list[Problem]:
    """Rules across fields, checked on the raw input so they are listed with the rest."""
    problems: list[Problem] = []
    items = data.get("items")
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, Mapping) and not item.get("duration") and not item.get("quantity"):
                problems.append(
                    {
                        "path": f"items.{i}.duration",
                        "message": "indiquez la durée du traitement ou la quantité",
                    }
                )
    patient = data.get("patient")
    if isinstance(patient, Mapping) and patient.get("weight_kg") is None:
        try:
            born = date.fromisoformat(str(patient.get("birth_date")))
            issued = datetime.fromisoformat(str(data.get("issued_at"))).date()
        except ValueError:
            return problems
        age = issued.year - born.year - ((issued.month, issued.day) < (born.month, born.day))
        if age < CHILD_AGE_YEARS:
            problems.append(
                {
                    "path": "patient.weight_kg",
                    "message": f"le poids est obligatoire pour un patient de moins de "
                    f"{CHILD_AGE_YEARS} ans",
                }
            )
    return problems


_FRENCH = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "string_too_short": "ne doit pas être vide",
    "string_too_long": "texte trop long",
    "string_type": "texte attendu",
    "string_pattern_mismatch": "format invalide (lettres majuscules, chiffres et tirets)",
    "date_from_datetime_parsing": "date invalide (format AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date sans heure attendue (format AAAA-MM-JJ)",
    "date_parsing": "date invalide (format AAAA-MM-JJ)",
    "date_type": "date invalide (format AAAA-MM-JJ)",
    "datetime_parsing": "date et heure invalides (ISO 8601, ex. 2026-11-23T10:30:00+01:00)",
    "datetime_from_date_parsing": "date et heure invalides (ISO 8601)",
    "datetime_type": "date et heure invalides (ISO 8601)",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "bool_parsing": "vrai ou faux attendu",
    "bool_type": "vrai ou faux attendu",
    "literal_error": "valeur non admise : F ou M",
    "list_type": "liste attendue",
    "model_type": "objet attendu",
    "dict_type": "objet attendu",
    "too_short": "au moins une ligne est nécessaire",
    "too_long": "trop de lignes",
}


def problems_from(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(ordonnance)"
        kind = err["type"]
        if kind == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        elif kind in ("greater_than", "less_than_equal", "greater_than_equal", "less_than"):
            message = "valeur hors limites"
        else:
            message = _FRENCH.get(kind, err["msg"])
        problems.append({"path": path, "message": message})
    return problems


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for p in problems:
        key = (p["path"], p["message"])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# The mention every consultation report carries, printed or sent (hub/shared/report_pdf.py).
SUMMARY_MENTION = "Compte rendu établi dans le cadre d'une téléconsultation"


def doctor_title(name: str) -> str:
    lowered = name.lower()
    return name if lowered.startswith(("dr ", "dr.", "docteur", "pr ")) else f"Dr {name}"
