"""The consultation record: built from the cabin's measurements, signed only with a
conclusion."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest

from devices import coding
from devices.measurement import Measurement
from hub.shared.record import (
    ConsultationRecord,
    PrescriptionDocument,
    RecordInvalid,
    Report,
    observations_from_measurement,
    parse_record,
    sign,
)
from tests.hub.records.sample import END_OFFSET, EXPECTED, START, sample_record


def test_the_measurements_come_with_code_unit_device_and_time() -> None:
    record = sample_record()
    assert [(o.code, o.value) for o in record.observations] == EXPECTED
    weight = record.observations[0]
    assert (weight.unit, weight.device, weight.kind) == ("kg", "balance", "weight")
    assert record.observations[-1].taken_at == START + timedelta(minutes=3)


def test_signing_without_a_conclusion_is_refused() -> None:
    draft = sample_record(report=Report(reason="Toux", findings="RAS"))
    with pytest.raises(RecordInvalid) as exc:
        sign(draft, START + END_OFFSET)
    assert exc.value.problems == [
        {"path": "report.conclusion", "message": "la conclusion est obligatoire pour signer"}
    ]
    with pytest.raises(RecordInvalid, match="conclusion est obligatoire"):
        sign(sample_record(report=Report(conclusion="   ")), START + END_OFFSET)


def test_a_signed_record_round_trips_through_json() -> None:
    signed = sign(sample_record(), START + END_OFFSET)
    assert signed.signed
    again = ConsultationRecord.model_validate_json(signed.model_dump_json())
    assert again == signed
    assert again.prescription is not None and again.prescription.pdf is not None
    assert again.prescription.pdf.startswith(b"%PDF-")


def test_a_record_said_signed_without_conclusion_is_refused() -> None:
    data = sample_record(report=Report()).model_dump(mode="json")
    data["signed_at"] = (START + END_OFFSET).isoformat()
    with pytest.raises(RecordInvalid) as exc:
        parse_record(data)
    assert "un compte rendu signé a une conclusion" in str(exc.value)


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(RecordInvalid, match="la fin de la consultation précède son début"):
        parse_record(sample_record().model_dump() | {"ended_at": START - timedelta(minutes=1)})


def test_a_wrong_practitioner_rpps_is_refused_in_french() -> None:
    data = sample_record().model_dump()
    data["practitioner"] = {"name": "Dr X", "rpps": "10001234566"}
    with pytest.raises(RecordInvalid) as exc:
        parse_record(data)
    assert {"path": "practitioner.rpps",
            "message": "numéro RPPS invalide (la clé de contrôle, dernier chiffre, est fausse)"
            } in exc.value.problems  # fmt: skip


def test_the_prescription_pdf_or_its_digest_and_reference() -> None:
    pdf = b"%PDF-1.4 test"
    digest = hashlib.sha256(pdf).hexdigest()
    assert PrescriptionDocument(number="ORD-1", pdf=pdf).digest == digest
    assert PrescriptionDocument(number="ORD-1", sha256=digest, ref="store:1").digest == digest
    with pytest.raises(ValueError, match="empreinte sha256 ne correspond pas"):
        PrescriptionDocument(number="ORD-1", pdf=pdf, sha256="0" * 64)
    with pytest.raises(ValueError, match="sa référence"):
        PrescriptionDocument(number="ORD-1", sha256=digest)
    with pytest.raises(ValueError, match="PDF est attendu"):
        PrescriptionDocument(number="ORD-1", pdf=b"hello")


def test_a_record_is_signed_once() -> None:
    signed = sign(sample_record(), START + END_OFFSET)
    with pytest.raises(RecordInvalid, match="déjà signé"):
        sign(signed, START + END_OFFSET + timedelta(minutes=5))


def test_the_instrument_time_is_kept_and_intermediate_values_left_out() -> None:
    m = Measurement(
        "weight", (coding.obs(coding.BODY_WEIGHT, Decimal("21.4")),),
        timestamp=START + timedelta(seconds=30),
    )  # fmt: skip
    (o,) = observations_from_measurement(m.to_json(), "balance", START + timedelta(minutes=9))
    assert (o.taken_at, o.value) == (START + timedelta(seconds=30), Decimal("21.4"))
    live = Measurement("blood_pressure", (coding.obs(coding.CUFF_PRESSURE, Decimal(120)),),
                       intermediate=True).to_json() | {"intermediate": True}  # fmt: skip
    assert observations_from_measurement(live, "tensiomètre", START) == []
