"""The record's FHIR document: parsed back by fhir.resources, the values measured present."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hub.records.fhir_document import RPPS_SYSTEM, document_json
from hub.shared.ins import INS_OID_NIR
from hub.shared.record import Report, sign
from tests.hub.records.sample import END_OFFSET, EXPECTED, START, sample_record


def parsed(record_json: str) -> tuple[Bundle, dict[str, list[dict[str, Any]]]]:
    bundle = Bundle.model_validate_json(record_json)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(record_json)["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return bundle, by_type


def test_the_document_parses_and_starts_with_the_composition() -> None:
    record = sign(sample_record(), START + END_OFFSET)
    bundle, res = parsed(document_json(record))
    assert bundle.type == "document"
    assert bundle.entry is not None
    assert bundle.entry[0].resource is not None
    assert bundle.entry[0].resource.get_resource_type() == "Composition"
    composition = res["Composition"][0]
    assert composition["status"] == "final"
    [attester] = composition["attester"]
    assert (attester["mode"], attester["party"]["display"]) == ("legal", "Dr Élise Lefèvre")
    assert attester["time"] == (START + END_OFFSET).isoformat()
    titles = [s["title"] for s in composition["section"]]
    assert titles == ["Motif de consultation", "Examen", "Conclusion", "Conseils", "Suivi",
                      "Mesures", "Prescription"]  # fmt: skip
    conclusion = composition["section"][2]["text"]["div"]
    assert "Bronchite aiguë probablement virale" in conclusion
    # every reference points at an entry of the bundle
    urls = {e.fullUrl for e in bundle.entry}
    refs = _references(json.loads(document_json(record)))
    assert refs and set(refs) <= urls


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["reference"]] if isinstance(node.get("reference"), str) else []
        for value in node.values():
            out += _references(value)
        return out
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    return []


def test_the_observations_carry_the_values_measured() -> None:
    record = sample_record()
    _, res = parsed(document_json(record))
    got = [
        (o["code"]["coding"][0]["code"], Decimal(str(o["valueQuantity"]["value"])))
        for o in res["Observation"]
    ]
    assert got == EXPECTED
    weight = res["Observation"][0]
    ucum = "http://unitsofmeasure.org"
    assert weight["valueQuantity"] == {"value": 62.4, "unit": "kg", "system": ucum, "code": "kg"}
    assert weight["device"] == {"display": "balance"}
    assert weight["effectiveDateTime"] == "2026-11-23T10:05:00+01:00"
    systolic = res["Observation"][1]
    assert systolic["code"]["coding"][0]["system"] == "http://loinc.org"
    assert systolic["valueQuantity"]["code"] == "mm[Hg]"


def test_patient_ins_practitioner_rpps_encounter_virtual() -> None:
    _, res = parsed(document_json(sample_record()))
    patient = res["Patient"][0]
    assert patient["identifier"][0]["system"] == f"urn:oid:{INS_OID_NIR}"
    assert patient["identifier"][0]["value"] == "248032A00401750"
    assert patient["name"][0] == {"use": "official", "family": "Dupont",
                                  "given": ["Hélène", "Marie"]}  # fmt: skip
    assert (patient["gender"], patient["birthDate"]) == ("female", "1948-03-02")
    doctor, gp = res["Practitioner"]
    assert doctor["identifier"][0] == {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "PRN"}], "text": "RPPS"},
        "system": RPPS_SYSTEM, "value": "810001234565",
    }  # fmt: skip
    assert gp["telecom"][0]["value"] == "anne.roux@medecin.mssante.fr"
    encounter = res["Encounter"][0]
    assert encounter["class"]["code"] == "VR"
    assert encounter["period"] == {"start": "2026-11-23T10:05:00+01:00",
                                   "end": "2026-11-23T10:27:00+01:00"}  # fmt: skip
    assert res["Location"][0]["name"] == "Mairie de Nangis"


def test_a_walk_in_without_ins_has_no_identifier() -> None:
    record = sample_record(
        patient={"birth_name": "Martin", "first_names": "Paul", "birth_date": "1950-01-02"},
        general_practitioner=None,
    )
    _, res = parsed(document_json(record))
    assert "identifier" not in res["Patient"][0]
    assert "generalPractitioner" not in res["Patient"][0]
    assert len(res["Practitioner"]) == 1


def test_one_medication_request_per_line_and_the_pdf_attached() -> None:
    record = sample_record()
    _, res = parsed(document_json(record))
    requests = res["MedicationRequest"]
    assert [r["medicationCodeableConcept"]["text"] for r in requests] == [
        i.medication for i in record.prescription_lines
    ]
    assert requests[1]["substitution"] == {"allowedBoolean": False}
    assert requests[2]["dispenseRequest"] == {"numberOfRepeatsAllowed": 2}
    assert "pendant 5 jours" in requests[0]["dosageInstruction"][0]["text"]
    (doc,) = res["DocumentReference"]
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert record.prescription is not None
    assert base64.b64decode(attachment["data"]) == record.prescription.pdf


def test_a_draft_is_preliminary_and_the_same_record_gives_the_same_document() -> None:
    draft = sample_record(report=Report(reason="Toux"))
    _, res = parsed(document_json(draft))
    assert res["Composition"][0]["status"] == "preliminary"
    assert "attester" not in res["Composition"][0]
    assert document_json(draft) == document_json(draft)
