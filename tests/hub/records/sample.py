"""One consultation record built from what the cabin really produces: the decoders'
measurements (devices.coding, devices.measurement) and the printer's sample prescription,
rendered to its PDF."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from devices import coding
from devices.measurement import Measurement
from hub.shared.ins import GeneralPractitioner, Patient
from hub.shared.prescription import parse_prescription
from hub.shared.record import (
    ConsultationRecord,
    Practitioner,
    PrescriptionDocument,
    Report,
    observations_from_measurement,
)
from printer.render import render_prescription

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 23, 10, 5, tzinfo=PARIS)
END_OFFSET = timedelta(minutes=22)
SAMPLE = Path(__file__).parents[3] / "printer" / "samples" / "prescription.json"
# Born in Ajaccio (2A004) in March 1948: 97 - (2480319004017 mod 97) = 50.
HELENE_INS = "2 48 03 2A 004 017 50"
# (device, measurement): the kinds the cabin's instruments send.
MEASUREMENTS: list[tuple[str, Measurement]] = [
    ("balance", Measurement("weight", (coding.obs(coding.BODY_WEIGHT, Decimal("62.4")),))),
    (
        "tensiomètre",
        Measurement(
            "blood_pressure",
            (
                coding.obs(coding.SYSTOLIC, Decimal(142)),
                coding.obs(coding.DIASTOLIC, Decimal(88)),
                coding.obs(coding.MEAN_ARTERIAL, Decimal(106)),
                coding.obs(coding.PULSE_RATE, Decimal(72)),
            ),
        ),
    ),
    (
        "oxymètre",
        Measurement(
            "spo2",
            (coding.obs(coding.SPO2, Decimal(97)), coding.obs(coding.BATTERY_LEVEL, Decimal(80))),
        ),
    ),
    (
        "thermomètre",
        Measurement("temperature", (coding.obs(coding.BODY_TEMPERATURE, Decimal("37.8")),)),
    ),
    ("glucomètre", Measurement("glucose", (coding.obs(coding.GLUCOSE_MASS, None),))),
]
# What the record must carry: (LOINC, value) of each clinical value measured.
EXPECTED = [
    ("29463-7", Decimal("62.4")),
    ("8480-6", Decimal(142)),
    ("8462-4", Decimal(88)),
    ("8478-0", Decimal(106)),
    ("8867-4", Decimal(72)),
    ("59408-5", Decimal(97)),
    ("8310-5", Decimal("37.8")),
]


def sample_record(**changes: Any) -> ConsultationRecord:
    observations = []
    for n, (device, m) in enumerate(MEASUREMENTS):
        wire = json.loads(json.dumps(m.to_json()))  # as it travels to the console
        observations += observations_from_measurement(wire, device, START + timedelta(minutes=n))
    rx = parse_prescription(json.loads(SAMPLE.read_text()))
    data: dict[str, Any] = {
        "record_id": "rec-0001",
        "session_id": "s-42",
        "cabin_id": "nangis-1",
        "site_id": "NAN231",
        "site_name": "Mairie de Nangis",
        "started_at": START,
        "ended_at": START + END_OFFSET,
        "practitioner": Practitioner(name="Dr Élise Lefèvre", rpps="10001234565"),
        "patient": Patient.model_validate(
            {
                "birth_name": "Dupont",
                "first_names": "Hélène Marie",
                "birth_date": "1948-03-02",
                "sex": "F",
                "birth_place": "2A004",
                "ins_number": HELENE_INS,
            }
        ),
        "general_practitioner": GeneralPractitioner(
            name="Dr Anne Roux", rpps="10003456786", mssante="anne.roux@medecin.mssante.fr"
        ),
        "report": Report(
            reason="Fièvre depuis 3 jours, toux",
            findings="Tension à 142/88, SpO2 97 %, 37,8 °C",
            conclusion="Bronchite aiguë probablement virale",
            advice="Boire abondamment, repos",
            follow_up="Revoir son médecin traitant sous 48 h si la fièvre persiste",
        ),
        "observations": observations,
        "prescription_lines": list(rx.items),
        "prescription": PrescriptionDocument(
            number=rx.prescription_number, pdf=render_prescription(rx)
        ),
    }
    data.update(changes)
    return ConsultationRecord.model_validate(data)
