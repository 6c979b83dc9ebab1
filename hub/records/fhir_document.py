"""The consultation record as a FHIR R4 document (a Bundle of type ``document``).

Public API:
- ``build_document(record) -> Bundle``: the Bundle, validated by ``fhir.resources``;
- ``document_json(record) -> str``: the same as JSON, what a FHIR server or a mail takes.

Built with ``fhir.resources.R4B``: fhir.resources 7 and later give R5 at the top of the
package and R4B (4.3.0) under ``fhir.resources.R4B``; there is no R4 (4.0.1) package in
those versions. R4B changed only the medication-definition, evidence and subscription
resources (hl7.org/fhir/R4B/r4b-explanation.html: "Implementers that do not use the
specific portions where changes have been made can continue to use either R4 or R4B
without any functional difference"); none of those is used here, so the JSON is R4.

Entries, the Composition first (as a document requires): Composition (one section per
report field, the vital signs, the prescription; once signed, attested "legal" by the
doctor at the signature's time), Patient (the INS number as identifier,
system ``urn:oid:`` + the INS OID, when known), Practitioner (RPPS under the national
professional-identifier OID 1.2.250.1.71.4.2.1, value "8" + RPPS as the French directory
writes it), the GP as a second Practitioner when known, Location (the cabin), Encounter
(class VR "virtual", its period), one Observation per value (LOINC code, UCUM quantity,
the device, the time), one MedicationRequest per prescribed line, and a DocumentReference
carrying the prescription PDF (base64, application/pdf) or pointing at it.

Every ``fullUrl`` is a ``urn:uuid:`` derived from the record id, so the same record always
gives the same document (a FHIR server that receives it twice sees one)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from fhir.resources.R4B.bundle import Bundle

from hub.shared.prescription import Item
from hub.shared.record import ConsultationRecord, Observation, Report

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
# The namespace of the uuids of one record's resources (uuid5 of the record id).
_NAMESPACE = uuid.UUID("0b6f3f5e-6d0c-4e43-9a57-17c0e2f0d917")
# LOINC document and section codes.
CONSULT_NOTE = ("11488-4", "Consult note")
PRESCRIPTION_DOCUMENT = ("57833-6", "Prescription for medication")
SECTIONS: tuple[tuple[str, str, str, str], ...] = (
    # report field, LOINC code, LOINC display, French title
    ("reason", "29299-5", "Reason for visit Narrative", "Motif de consultation"),
    ("findings", "29545-1", "Physical findings Narrative", "Examen"),
    ("conclusion", "51848-0", "Evaluation note", "Conclusion"),
    ("advice", "69730-0", "Instructions", "Conseils"),
    ("follow_up", "18776-5", "Plan of care note", "Suivi"),
)
VITAL_SIGNS_SECTION = ("8716-3", "Vital signs", "Mesures")
MEDICATION_SECTION = ("57828-6", "Prescription list", "Prescription")
GENDER = {"F": "female", "M": "male", "I": "other"}


def _uuid(record: ConsultationRecord, name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{record.record_id}/{name}')}"


def _ref(url: str, display: str | None = None) -> dict[str, Any]:
    return {"reference": url} | ({"display": display} if display else {})


def _narrative(text: str) -> dict[str, Any]:
    lines = "<br/>".join(escape(line) for line in text.splitlines())
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{lines}</div>',
    }


def _when(at: datetime) -> str:
    return at.isoformat()


def _patient(record: ConsultationRecord, gp_url: str | None) -> dict[str, Any]:
    p = record.patient
    names: list[dict[str, Any]] = [
        {"use": "official", "family": p.birth_name, "given": p.first_names.split()}
    ]
    if p.used_name:
        names.append({"use": "usual", "family": p.used_name, "given": p.first_names.split()[:1]})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": names,
        "birthDate": p.birth_date.isoformat(),
    }
    if p.ins_number is not None and p.ins_oid is not None:
        resource["identifier"] = [
            {
                "use": "official",
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "NH"}], "text": "INS"},
                "system": f"urn:oid:{p.ins_oid}",
                "value": p.ins_number,
            }
        ]
    if p.sex is not None:
        resource["gender"] = GENDER[p.sex]
    if gp_url is not None and record.general_practitioner is not None:
        resource["generalPractitioner"] = [_ref(gp_url, record.general_practitioner.name)]
    return resource


def _practitioner(name: str, rpps: str | None, email: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Practitioner", "name": [{"text": name}]}
    if rpps is not None:
        resource["identifier"] = [
            {
                "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "PRN"}], "text": "RPPS"},
                "system": RPPS_SYSTEM,
                "value": f"8{rpps}",
            }
        ]
    if email is not None:
        resource["telecom"] = [{"system": "email", "value": email, "use": "work"}]
    return resource


def _observation(o: Observation, urls: dict[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": o.code, "display": o.display}]},
        "subject": _ref(urls["patient"]),
        "encounter": _ref(urls["encounter"]),
        "effectiveDateTime": _when(o.taken_at),
        "performer": [_ref(urls["practitioner"])],
        "valueQuantity": {"value": o.value, "unit": o.unit, "system": UCUM, "code": o.unit},
    }
    if o.device:
        resource["device"] = {"display": o.device}
    return resource


def _dosage_text(item: Item) -> str:
    parts = [item.posology]
    if item.duration:
        parts.append(f"pendant {item.duration}")
    if item.quantity:
        parts.append(f"quantité : {item.quantity}")
    return " ; ".join(parts)


def _medication_request(
    item: Item, record: ConsultationRecord, urls: dict[str, str]
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": item.medication},
        "subject": _ref(urls["patient"]),
        "encounter": _ref(urls["encounter"]),
        "requester": _ref(urls["practitioner"], record.practitioner.name),
        "dosageInstruction": [{"text": _dosage_text(item)}],
        "substitution": {"allowedBoolean": not item.non_substitutable},
    }
    if record.signed_at is not None:
        resource["authoredOn"] = _when(record.signed_at)
    if item.renewals:
        resource["dispenseRequest"] = {"numberOfRepeatsAllowed": item.renewals}
    return resource


def _document_reference(record: ConsultationRecord, urls: dict[str, str]) -> dict[str, Any]:
    doc = record.prescription
    assert doc is not None
    attachment: dict[str, Any] = {
        "contentType": "application/pdf",
        "title": f"Ordonnance {doc.number}",
    }
    if doc.pdf is not None:
        attachment["data"] = base64.b64encode(doc.pdf).decode("ascii")
        attachment["size"] = len(doc.pdf)
        # FHIR R4's Attachment.hash is the SHA-1 of the data, base64.
        sha1 = hashlib.sha1(doc.pdf, usedforsecurity=False).digest()
        attachment["hash"] = base64.b64encode(sha1).decode("ascii")
    else:
        attachment["url"] = doc.ref
    code, display = PRESCRIPTION_DOCUMENT
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"value": doc.number},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{doc.digest}"}],
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": _ref(urls["patient"]),
        "author": [_ref(urls["practitioner"], record.practitioner.name)],
        "content": [{"attachment": attachment}],
        "context": {"encounter": [_ref(urls["encounter"])]},
    }
    if record.signed_at is not None:
        resource["date"] = _when(record.signed_at)
    return resource


def _section(code: str, display: str, title: str, text: str, entries: list[str]) -> dict[str, Any]:
    section: dict[str, Any] = {
        "title": title,
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "text": _narrative(text),
    }
    if entries:
        section["entry"] = [_ref(url) for url in entries]
    return section


def _report_sections(report: Report) -> list[dict[str, Any]]:
    out = []
    for field, code, display, title in SECTIONS:
        text = getattr(report, field)
        if text:
            out.append(_section(code, display, title, text, []))
    return out


def _composition(
    record: ConsultationRecord, urls: dict[str, str], obs_urls: list[str], rx_urls: list[str]
) -> dict[str, Any]:
    sections = _report_sections(record.report)
    if obs_urls:
        code, display, title = VITAL_SIGNS_SECTION
        text = "\n".join(f"{o.display} : {o.value} {o.unit}" for o in record.observations)
        sections.append(_section(code, display, title, text, obs_urls))
    if rx_urls:
        code, display, title = MEDICATION_SECTION
        text = "\n".join(f"{i.medication} : {_dosage_text(i)}" for i in record.prescription_lines)
        sections.append(_section(code, display, title, text, rx_urls))
    code, display = CONSULT_NOTE
    composition: dict[str, Any] = {
        "resourceType": "Composition",
        "status": "final" if record.signed else "preliminary",
        "type": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": _ref(urls["patient"]),
        "encounter": _ref(urls["encounter"]),
        "date": _when(record.signed_at or record.ended_at or record.started_at),
        "author": [_ref(urls["practitioner"], record.practitioner.name)],
        "title": "Compte rendu de téléconsultation",
        "section": sections,
    }
    if record.signed_at is not None:
        # Signed: the doctor attests it, legally, at the signature's time.
        composition["attester"] = [
            {
                "mode": "legal",
                "time": _when(record.signed_at),
                "party": _ref(urls["practitioner"], record.practitioner.name),
            }
        ]
    return composition


def build_document(record: ConsultationRecord) -> Bundle:
    """The FHIR document of ``record``; ``pydantic.ValidationError`` if fhir.resources
    refuses it (a bug here, not bad input: the record is validated already)."""
    urls = {
        name: _uuid(record, name)
        for name in ("composition", "patient", "practitioner", "gp", "location", "encounter")
    }
    gp = record.general_practitioner
    resources: list[tuple[str, dict[str, Any]]] = []
    resources.append(("patient", _patient(record, urls["gp"] if gp else None)))
    resources.append(
        ("practitioner", _practitioner(record.practitioner.name, record.practitioner.rpps))
    )
    if gp is not None:
        resources.append(("gp", _practitioner(gp.name, gp.rpps, gp.mssante)))
    resources.append(
        (
            "location",
            {
                "resourceType": "Location",
                "identifier": [{"value": record.cabin_id}],  # the hub's cabin id
                "name": record.site_name,
                "mode": "instance",
                "status": "active",
            },
        )
    )
    period: dict[str, str] = {"start": _when(record.started_at)}
    if record.ended_at is not None:
        period["end"] = _when(record.ended_at)
    resources.append(
        (
            "encounter",
            {
                "resourceType": "Encounter",
                "identifier": [{"value": record.session_id}],  # the cabin's session id
                "status": "finished" if record.ended_at is not None else "in-progress",
                "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
                "subject": _ref(urls["patient"]),
                "participant": [{"individual": _ref(urls["practitioner"])}],
                "period": period,
                "location": [{"location": _ref(urls["location"], record.site_name)}],
            },
        )
    )
    obs_urls, rx_urls = [], []
    for n, o in enumerate(record.observations):
        url = _uuid(record, f"observation/{n}")
        obs_urls.append(url)
        resources.append((url, _observation(o, urls)))
    for n, item in enumerate(record.prescription_lines):
        url = _uuid(record, f"medication-request/{n}")
        rx_urls.append(url)
        resources.append((url, _medication_request(item, record, urls)))
    if record.prescription is not None:
        url = _uuid(record, "prescription-pdf")
        rx_urls.append(url)
        resources.append((url, _document_reference(record, urls)))
    composition = _composition(record, urls, obs_urls, rx_urls)
    entries = [{"fullUrl": urls["composition"], "resource": composition}]
    entries += [{"fullUrl": urls.get(key, key), "resource": r} for key, r in resources]
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": _uuid(record, "document")},
        "type": "document",
        "timestamp": _when(record.signed_at or record.ended_at or record.started_at),
        "entry": entries,
    }
    return Bundle.model_validate(bundle)


def document_json(record: ConsultationRecord) -> str:
    """The document as FHIR JSON."""
    return build_document(record).model_dump_json(exclude_none=True)
