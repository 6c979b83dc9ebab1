"""Printing through the machine's real cupsd and its cups-pdf queue "PDF"."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from printer.errors import PrescriptionInvalid
from printer.render import TELECONSULTATION_MENTION
from printer.service import PrinterService
from tests.printer.conftest import (
    EventLog,
    StartService,
    child_prescription,
    needs_system_cups,
    until,
)
from tests.printer.cups_env import pdf_text, remove_copies, wait_for_copies

pytestmark = needs_system_cups

# cups-pdf prints a page in well under a second; allow for a loaded machine.
PRINT_TIMEOUT_S = 60.0


async def test_printed_pdf_holds_every_mention_and_item(
    start_service: StartService,
    event_log: Callable[[PrinterService], EventLog],
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    service = await start_service(None)
    events = event_log(service)
    number = prescription["number"]
    try:
        doc_id = await service.submit_prescription(prescription, "session-1")
        await events.wait_for("completed", PRINT_TIMEOUT_S)
        copies = await asyncio.to_thread(wait_for_copies, number, test_start, 1, PRINT_TIMEOUT_S)
        assert len(copies) == 1
        text = " ".join(pdf_text(copies[0]).split())
        for mention in (
            "Dr Élise Lefèvre",
            "Médecine générale",
            "N° RPPS : 10001234565",
            "Centre de téléconsultation, 12 rue Saint-Éloi, 77000 Melun, France",
            "+33 1 64 00 00 00",
            "dr.lefevre@example.fr",
            "Le 23 novembre 2026",
            "Patient : Mme Hélène Dupont",
            "Née le 02/03/1948 (78 ans)",
            "poids : 62 kg",
            TELECONSULTATION_MENTION,
            f"Ordonnance n° {number}",
            "Signé électroniquement par Dr Élise Lefèvre",
            "Non substituable",
            "page 1/1",
        ):
            assert mention in text, mention
        for item in prescription["items"]:
            assert item["medication"] in text
        assert events.states == ["stored", "queued", "printing", "completed"]
        assert {e.document_id for e in events.seen} == {doc_id}
        docs = service.documents("session-1")
        assert [d["id"] for d in docs] == [doc_id]
        assert docs[0]["attempts"] == 1
        assert "payload" not in docs[0]
        await until(lambda: service.status()["state"] == "idle", 10, "idle printer")
        status = service.status()
        assert status["pending"] == 0
        assert status["last_job"] == {
            "document_id": doc_id,
            "document": "prescription",
            "state": "completed",
        }
        assert "Dupont" not in str(status)
    finally:
        remove_copies(number, test_start)


async def test_a_childs_printed_prescription_reads_21_4_kg_and_no_civility(
    start_service: StartService, test_start: float
) -> None:
    """Issue 19: a 7-year-old weighing 21.4 kg, read back from the cups-pdf copy."""
    service = await start_service(None)
    prescription = child_prescription()
    number = prescription["number"] = f"TEST-{uuid.uuid4().hex[:12].upper()}"
    try:
        await service.submit_prescription(prescription, "session-1")
        copies = await asyncio.to_thread(wait_for_copies, number, test_start, 1, PRINT_TIMEOUT_S)
        assert len(copies) == 1
        lines = [" ".join(line.split()) for line in pdf_text(copies[0]).splitlines()]
        assert "Patient : Lucas Martin" in lines
        assert (
            "Né le 12/05/2019 (7 ans) — sexe masculin — poids : 21,4 kg — taille : 122,5 cm"
            in lines
        )
        text = "\n".join(lines)
        assert "21.4" not in text
        assert "M. Lucas" not in text
        assert "Mme" not in text
    finally:
        remove_copies(number, test_start)


async def test_invalid_prescription_stores_and_prints_nothing(
    start_service: StartService, prescription: dict[str, Any]
) -> None:
    service = await start_service(None)
    prescription["items"][0]["medication"] = "Méthylphénidate 10 mg (Ritaline)"
    prescription["prescriber"]["rpps"] = "10001234566"
    with pytest.raises(PrescriptionInvalid) as caught:
        await service.submit_prescription(prescription, "session-1")
    assert {p["path"] for p in caught.value.problems} == {
        "items.0.medication",
        "prescriber.rpps",
    }
    assert service.documents() == []


async def test_reprint_prints_a_second_copy(
    start_service: StartService, prescription: dict[str, Any], test_start: float
) -> None:
    service = await start_service(None)
    number = prescription["number"]
    try:
        doc_id = await service.submit_prescription(prescription, None)
        await until(lambda: service.documents()[0]["state"] == "completed", PRINT_TIMEOUT_S, "1st")
        assert (
            len(await asyncio.to_thread(wait_for_copies, number, test_start, 1, PRINT_TIMEOUT_S))
            == 1
        )
        await service.reprint(doc_id)
        await until(lambda: service.documents()[0]["state"] == "completed", PRINT_TIMEOUT_S, "2nd")
        assert (
            len(await asyncio.to_thread(wait_for_copies, number, test_start, 2, PRINT_TIMEOUT_S))
            == 2
        )
    finally:
        remove_copies(number, test_start)
