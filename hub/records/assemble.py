"""A consultation record from its two halves at the hub: the doctor's report (the
``consultation_records`` row) and the cabin's part (``wire.CabinRecord``, in the row's
``cabin_part``).

Public API:
- ``record_of(row, practitioner, site_name=None) -> ConsultationRecord``: the record, for
  the deliveries, the doctor's history (its PDF) and ``kiosk record show``;
  ``RecordInvalid`` when the halves do not make one (no cabin part yet, a doctor's
  account without an RPPS number, times that do not hold).
- ``cabin_part_of(row) -> CabinRecord | None``: the cabin's part, validated.
- ``patient_search(patient) -> str``: what the history searches, "family given" lower-cased
  with accents removed ("dupont helene marie")."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import ValidationError

from hub.shared.ins import Patient
from hub.shared.prescription import problems_from
from hub.shared.record import ConsultationRecord, RecordInvalid, parse_record
from hub.shared.wire import CabinRecord
from hub.store.models import Account, ConsultationRecordRow

SEARCH_CHARS = 300  # the column's width


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: "Hélène  DUPONT" -> "helene dupont"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def patient_search(patient: Patient) -> str:
    """The family names (birth name, then the used name when it differs), then the first
    names: a search for "dupont helene" or "helene" or "martin" finds them."""
    names = [patient.birth_name]
    if patient.used_name and fold(patient.used_name) != fold(patient.birth_name):
        names.append(patient.used_name)
    return fold(" ".join([*names, patient.first_names]))[:SEARCH_CHARS]


def cabin_part_of(row: ConsultationRecordRow) -> CabinRecord | None:
    if row.cabin_part is None:
        return None
    try:
        return CabinRecord.model_validate(row.cabin_part)
    except ValidationError as exc:
        raise RecordInvalid(problems_from(exc)) from None


def record_of(
    row: ConsultationRecordRow, practitioner: Account, site_name: str | None = None
) -> ConsultationRecord:
    """The record of ``row`` as signed by ``practitioner`` (the doctor's account:
    display name, RPPS, specialty); ``site_name`` for the encounter's location (the
    site's code when not given)."""
    part = cabin_part_of(row)
    if part is None:
        raise RecordInvalid(
            [{"path": "cabin_part", "message": "la cabine n'a pas encore transmis sa partie"}]
        )
    data: dict[str, Any] = {
        "record_id": row.consultation_id,
        "session_id": row.session_id,
        "cabin_id": row.cabin_id,
        "site_id": row.site_code,
        "site_name": site_name or row.site_code,
        "started_at": part.started_at,
        "ended_at": part.ended_at,
        "practitioner": {
            "name": practitioner.display_name,
            "rpps": practitioner.rpps or "",
            "specialty": practitioner.specialty,
        },
        "patient": part.patient,
        "general_practitioner": part.general_practitioner,
        "report": row.report or {},
        "observations": part.observations,
        "prescription_lines": part.prescription_lines,
        "prescription": part.prescription,
        "signed_at": row.signed_at,
    }
    return parse_record(data)
