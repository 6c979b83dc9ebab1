"""The patient's identity traits (INS) and their own GP, as check-in and booking give them.

Public API:
- ``Patient``: birth name, first names as on the ID, birth date (required: a walk-in can
  say them); sex, birth place code (INSEE/COG), used name and the INS number (optional).
  The INS number is checked (its key, and against the sex and the birth year and month it
  encodes); a birth date in the future or before 1880 is refused.
- ``GeneralPractitioner``: the patient's own GP: name, RPPS (optional, Luhn-checked by
  ``hub.shared.practitioner.check_rpps``), MSSanté address (optional, e-mail syntax).
- ``check_ins_number(value) -> str``: the 15 characters of an INS number, spaces removed,
  or ``ValueError`` with a French message ("clé du NIR incorrecte : attendu 45, reçu 12").
- ``nir_key(body) -> int``: the key of a 13-character NIR body.
- ``INS_OID_NIR``, ``INS_OID_NIA``: the OIDs that qualify the INS number as identifier.

Every message is French: the coordinator and the doctor read them.

Facts, and where they were learnt:
- key = 97 − (the 13-character number mod 97) (trabucaire.free.fr/?p=1824, "Le numéro
  INSEE": "97 et le reste de la division du nombre INSEE par 97", worked example
  2 62 08 75 032 039 → 77); Corsica's 2A and 2B count as 19 and 18 in that computation
  (the same substitution in every public NIR checker found, e.g. "replace 2A by 19, 2B by
  18" before ``97 - n % 97``).
- digit 1: 1 man, 2 woman (planet.fr, "les secrets de votre numéro de carte Vitale"; 7/8
  are provisional numbers, blog.dreamnev.org); digits 2–3 the birth year, 4–5 the birth
  month 01–12 (planet.fr), with forms for a month not known that are not a month: 20–42
  and 50 and above (public NIR checkers accept "20–42 and 91–99 special registers"; the
  brief of this work says 20–42/50+): these are accepted and not compared.
- digits 6–10 the birth place: département + commune, 99 + country for abroad
  (identito-na.fr "NIR et NIA"); not compared with ``birth_place``, since a commune may
  have changed département since the birth (blog.dreamnev.org: Levallois-Perret, 75 in
  the NIR, 92 today).
- the INS's OIDs: 1.2.250.1.213.1.4.8 national health identifier (NIR),
  1.2.250.1.213.1.4.9 temporary one (NIA) (euvabeco.github.io, "Object identifiers";
  occitanie.ars.sante.fr: "un OID qui permet de différencier NIR et NIA").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hub.shared.practitioner import check_email, check_rpps

INS_OID_NIR = "1.2.250.1.213.1.4.8"
INS_OID_NIA = "1.2.250.1.213.1.4.9"
# The earliest birth year taken as possible (the oldest person alive was born after it).
EARLIEST_BIRTH_YEAR = 1880
# The cabin is in France: "in the future" is judged on the French calendar day.
PARIS = ZoneInfo("Europe/Paris")
# Birth-month digits of a NIR that say "month not known" rather than a month.
UNKNOWN_MONTH_FORMS = (range(20, 43), range(50, 100))
NIR_SEX = {"1": "M", "2": "F"}
SEX_WORDS = {"M": "masculin", "F": "féminin"}

_INS_RE = re.compile(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{6}\d{2}")
_COG_RE = re.compile(r"(?:\d{2}|2[AB])\d{3}")


def nir_key(body: str) -> int:
    """The key of the 13 characters of a NIR (2A/2B read as 19/18)."""
    digits = body.upper().replace("2A", "19").replace("2B", "18")
    if not re.fullmatch(r"\d{13}", digits):
        raise ValueError("le NIR a 13 caractères (chiffres, 2A ou 2B pour la Corse)")
    return 97 - int(digits) % 97


def check_ins_number(value: str) -> str:
    """The INS number without spaces, its key checked."""
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if len(compact) != 15:
        raise ValueError(
            f"le numéro INS a 15 caractères (13 + la clé de 2 chiffres), reçu {len(compact)}"
        )
    if not _INS_RE.fullmatch(compact):
        raise ValueError(
            "numéro INS invalide : chiffres attendus (2A ou 2B pour un département corse)"
        )
    expected, given = nir_key(compact[:13]), int(compact[13:])
    if expected != given:
        raise ValueError(f"clé du NIR incorrecte : attendu {expected:02d}, reçu {given:02d}")
    return compact


def _check_cog(value: str) -> str:
    code = value.strip().upper()
    if not _COG_RE.fullmatch(code):
        raise ValueError(
            "code du lieu de naissance invalide : 5 caractères du code officiel géographique "
            "de l'INSEE (ex. 77305, 2A004, 99350 pour un pays étranger)"
        )
    return code


def _check_birth_date(value: date) -> date:
    today = datetime.now(PARIS).date()
    if value > today:
        raise ValueError(f"date de naissance dans le futur : {value:%d/%m/%Y}")
    if value.year < EARLIEST_BIRTH_YEAR:
        raise ValueError(f"date de naissance impossible : {value:%d/%m/%Y}")
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _no_controls(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("caractères de contrôle interdits")
    return value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_controls)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Patient(_Model):
    """The identity the patient gives; the INS traits when they are known."""

    birth_name: Name  # nom de naissance
    first_names: Name  # prénoms de naissance, as on the ID, separated by spaces
    birth_date: Annotated[date, AfterValidator(_check_birth_date)]
    used_name: Name | None = None  # nom d'usage, when it differs
    sex: Annotated[Literal["F", "M", "I"], BeforeValidator(_upper)] | None = None
    birth_place: Annotated[str, AfterValidator(_check_cog)] | None = None
    ins_number: Annotated[str, AfterValidator(check_ins_number)] | None = None
    # The INS number is a NIR, or a NIA (a number given while the NIR is awaited).
    ins_kind: Literal["NIR", "NIA"] = "NIR"

    @model_validator(mode="after")
    def _consistent(self) -> Patient:
        number = self.ins_number
        if number is None:
            return self
        nir_sex = NIR_SEX.get(number[0])
        if nir_sex is not None and self.sex in ("F", "M") and self.sex != nir_sex:
            raise ValueError(
                f"le numéro INS indique le sexe {SEX_WORDS[nir_sex]}, "
                f"la fiche le sexe {SEX_WORDS[self.sex]}"
            )
        if int(number[1:3]) != self.birth_date.year % 100:
            raise ValueError(
                f"le numéro INS indique une naissance en …{number[1:3]}, "
                f"la date de naissance est en {self.birth_date.year}"
            )
        month = int(number[3:5])
        if any(month in forms for forms in UNKNOWN_MONTH_FORMS):
            return self
        if not 1 <= month <= 12:
            raise ValueError(f"mois de naissance impossible dans le numéro INS : {number[3:5]}")
        if month != self.birth_date.month:
            raise ValueError(
                f"le numéro INS indique le mois de naissance {number[3:5]}, "
                f"la date de naissance le mois {self.birth_date.month:02d}"
            )
        return self

    @property
    def ins_oid(self) -> str | None:
        """The OID of the INS number's kind, None without a number."""
        if self.ins_number is None:
            return None
        return INS_OID_NIA if self.ins_kind == "NIA" else INS_OID_NIR

    @property
    def display_name(self) -> str:
        """``Hélène DUPONT``: first names, then the used (or birth) name in capitals."""
        return f"{self.first_names} {(self.used_name or self.birth_name).upper()}"


class GeneralPractitioner(_Model):
    """The patient's own GP (médecin traitant), to whom the record goes."""

    name: Name
    rpps: Annotated[str, AfterValidator(check_rpps)] | None = None
    mssante: Annotated[str, Field(max_length=254), AfterValidator(check_email)] | None = None

    @property
    def mssante_domain(self) -> bool:
        """True when the address is on the MSSanté space (``…mssante.fr``); others are
        accepted (a GP may give another secure address) and the sender may warn."""
        return self.mssante is not None and self.mssante.lower().endswith("mssante.fr")
