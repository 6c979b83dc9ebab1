"""The consultation record: what one teleconsultation leaves behind, for the patient, their
GP and a health record.

Public API:
- ``ConsultationRecord``: ids, cabin and site, start and end, the practitioner who signs
  (``Practitioner``: name, RPPS), the patient (``hub.shared.ins.Patient``: INS traits when
  known, else a name and a birth date) and their GP, the report (``Report``: reason,
  findings, conclusion, advice, follow-up), the measurements (``Observation``), the
  prescription lines (``hub.shared.prescription.Item``, the same lines the prescription prints) and
  the prescription PDF (``PrescriptionDocument``: its bytes, or its sha256 and a ref).
- ``observations_from_measurement(measurement, device, at) -> list[Observation]``: the
  observations of one measurement as the cabin sends it to the console
  (``devices.measurement.Measurement.to_json()``: LOINC code, display, value, UCUM unit).
- ``parse_record(data) -> ConsultationRecord``: validate JSON; ``RecordInvalid`` lists
  every problem with its path, in French.
- ``sign(record, at) -> ConsultationRecord``: the signed record; ``RecordInvalid`` when
  the conclusion is missing (a draft may lack it), it is signed already, or the times do
  not hold.

Bytes travel as base64 in JSON (``model_dump(mode="json")``)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from hub.shared.document_errors import Problem
from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.practitioner import check_rpps
from hub.shared.prescription import MAX_ITEMS, Item, LongText, Text, problems_from

# A consultation lasts minutes; a record of more than a day is a mistake of the clock.
MAX_CONSULTATION_HOURS = 24
# A few dozen measurements at most in 20-30 minutes; more is a runaway instrument.
MAX_OBSERVATIONS = 200
LOINC_PATTERN = r"^\d{1,7}-\d$"
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
ReportText = Annotated[LongText, Field(max_length=4000)]


class RecordInvalid(ValueError):
    """A record that cannot be taken or signed; ``problems`` says each, with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['path']} : {p['message']}" for p in problems))


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )


class Practitioner(_Model):
    """The doctor (or midwife...) who held the consultation and signs the record."""

    name: Text
    rpps: Annotated[str, AfterValidator(check_rpps)]
    specialty: Text | None = None


class Observation(_Model):
    """One value measured in the cabin, coded as the instrument decoders code it."""

    kind: Text  # the measurement's kind: "blood_pressure", "weight", ...
    code: Annotated[str, Field(pattern=LOINC_PATTERN)]  # LOINC, e.g. "8480-6"
    display: Text  # e.g. "Systolic blood pressure"
    value: Decimal = Field(allow_inf_nan=False)
    unit: Annotated[str, Field(min_length=1, max_length=20)]  # UCUM, e.g. "mm[Hg]"
    device: Text | None = None  # the instrument that measured it
    taken_at: AwareDatetime


class Report(_Model):
    """What the doctor writes; only the conclusion is needed to sign."""

    reason: ReportText | None = None  # motif
    findings: ReportText | None = None  # examen, constatations
    conclusion: ReportText | None = None
    advice: ReportText | None = None  # conseils
    follow_up: ReportText | None = None  # suivi: "revoir son médecin traitant sous 48 h"


class PrescriptionDocument(_Model):
    """The prescription as printed: its PDF, or where it is and its sha256."""

    number: Annotated[str, Field(min_length=1, max_length=40)]
    pdf: bytes | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    ref: Text | None = None  # where the PDF is kept, when not carried here

    @model_validator(mode="after")
    def _pdf_or_reference(self) -> PrescriptionDocument:
        if self.pdf is None:
            if self.sha256 is None or self.ref is None:
                raise ValueError("ordonnance : le PDF, ou son empreinte sha256 et sa référence")
            return self
        if not self.pdf.startswith(b"%PDF-"):
            raise ValueError("ordonnance : un document PDF est attendu")
        if self.sha256 is not None and self.sha256 != hashlib.sha256(self.pdf).hexdigest():
            raise ValueError("ordonnance : l'empreinte sha256 ne correspond pas au PDF")
        return self

    @property
    def digest(self) -> str:
        """The sha256 of the PDF, given or computed."""
        if self.pdf is not None:
            return hashlib.sha256(self.pdf).hexdigest()
        assert self.sha256 is not None  # the validator requires one or the other
        return self.sha256


class ConsultationRecord(_Model):
    record_id: Id
    session_id: Id  # the cabin's session
    cabin_id: Id
    site_id: Id
    site_name: Text  # "Mairie de Nangis": the Location of the encounter
    kind: Literal["teleconsultation"] = "teleconsultation"
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    practitioner: Practitioner
    patient: Patient
    general_practitioner: GeneralPractitioner | None = None
    report: Report = Report()
    observations: list[Observation] = Field(default_factory=list, max_length=MAX_OBSERVATIONS)
    prescription_lines: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS)
    prescription: PrescriptionDocument | None = None
    signed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _times(self) -> ConsultationRecord:
        if self.ended_at is not None:
            if self.ended_at < self.started_at:
                raise ValueError("la fin de la consultation précède son début")
            if (self.ended_at - self.started_at).total_seconds() > MAX_CONSULTATION_HOURS * 3600:
                raise ValueError(f"une consultation de plus de {MAX_CONSULTATION_HOURS} h")
        if self.signed_at is not None:
            if self.report.conclusion is None:
                raise ValueError("un compte rendu signé a une conclusion")
            if self.signed_at < self.started_at:
                raise ValueError("la signature précède le début de la consultation")
        return self

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


def _problems(exc: ValidationError) -> list[Problem]:
    return [
        {**p, "path": "(dossier)"} if p["path"] == "(ordonnance)" else p for p in problems_from(exc)
    ]


def parse_record(data: Any) -> ConsultationRecord:
    """A record from JSON (or a dict), every problem listed in ``RecordInvalid``."""
    if not isinstance(data, Mapping):
        raise RecordInvalid([{"path": "(dossier)", "message": "objet JSON attendu"}])
    try:
        return ConsultationRecord.model_validate(dict(data))
    except ValidationError as exc:
        raise RecordInvalid(_problems(exc)) from None


def sign(record: ConsultationRecord, at: datetime) -> ConsultationRecord:
    """The record signed at ``at`` (and ended then, if it was not yet)."""
    problems: list[Problem] = []
    if record.signed:
        problems.append({"path": "signed_at", "message": "ce compte rendu est déjà signé"})
    if record.report.conclusion is None or not record.report.conclusion.strip():
        problems.append(
            {"path": "report.conclusion", "message": "la conclusion est obligatoire pour signer"}
        )
    if at.tzinfo is None:
        problems.append({"path": "signed_at", "message": "heure sans fuseau horaire"})
    if problems:
        raise RecordInvalid(problems)
    data = record.model_dump()
    data["signed_at"] = at
    if data["ended_at"] is None:
        data["ended_at"] = at
    return parse_record(data)


def observations_from_measurement(
    measurement: Mapping[str, Any], device: str | None, at: datetime
) -> list[Observation]:
    """The observations of one measurement in the cabin's JSON form, at ``at`` unless the
    instrument gave its own time. Observations without a value (the instrument's "not
    available") and intermediate values (a cuff's pressure while it inflates) are left
    out: they are not results."""
    if measurement.get("intermediate"):
        return []
    stamp = measurement.get("timestamp")
    taken = datetime.fromisoformat(stamp) if isinstance(stamp, str) else at
    if taken.tzinfo is None:
        taken = at  # a device clock without a zone says nothing reliable
    out: list[Observation] = []
    for o in measurement.get("observations", []):
        if o.get("value") is None or not re.fullmatch(LOINC_PATTERN, str(o.get("code"))):
            continue  # no value, or a device status (battery) rather than a clinical code
        out.append(
            Observation(
                kind=str(measurement["kind"]),
                code=o["code"],
                display=o["display"],
                value=Decimal(repr(o["value"])) if isinstance(o["value"], float) else o["value"],
                unit=o["unit"],
                device=device,
                taken_at=taken,
            )
        )
    return out
