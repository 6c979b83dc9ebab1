"""printer-state-reasons to French messages for the patient, the doctor and the technician."""

from __future__ import annotations

import pytest

from printer import messages
from printer.cups_client import PrinterStatus


@pytest.mark.parametrize(
    ("reason", "patient", "technician"),
    [
        ("media-empty-error", "plus de papier", "Recharger le papier"),
        ("media-empty", "plus de papier", "Recharger le papier"),
        ("media-jam-error", "coincé", "Retirer le papier coincé"),
        ("door-open-error", "trappe", "Fermer la trappe"),
        ("cover-open-report", "capot", "Fermer le capot"),
        ("offline-report", "ne répond pas", "alimentation"),
        ("paused", "arrêtée", "cupsenable PDF"),
        ("toner-empty-error", "encre", "cartouche"),
    ],
)
def test_blocking_reasons(reason: str, patient: str, technician: str) -> None:
    status = PrinterStatus("idle", reasons=(reason,))
    assert not status.ready
    msgs = messages.printer_blocked(status.reasons, "PDF", "prescription")
    assert patient in msgs.patient
    assert "enregistré" in msgs.patient  # the patient knows the document is kept
    assert technician in msgs.technician
    assert "l'ordonnance est enregistrée et sera imprimée" in msgs.doctor


@pytest.mark.parametrize("reason", ["toner-low-report", "toner-low-warning", "media-low-report"])
def test_low_supplies_only_warn(reason: str) -> None:
    status = PrinterStatus("idle", reasons=(reason,))
    assert status.ready
    assert messages.warnings(status.reasons)
    assert messages.blocking_reasons(status.reasons) == []


def test_a_warning_suffix_never_blocks() -> None:
    assert PrinterStatus("idle", reasons=("media-empty-warning",)).ready
    assert "Recharger" in messages.warnings(["media-empty-warning"])[0]


def test_stopped_or_refusing_queue_is_not_ready() -> None:
    assert not PrinterStatus("stopped").ready
    assert not PrinterStatus("idle", accepting=False).ready
    assert not PrinterStatus("unreachable").ready
    assert PrinterStatus("printing").ready


def test_report_wording() -> None:
    assert "compte rendu" in messages.unreachable(None, "report").doctor
    assert "prenez-le" in messages.completed("report").patient
    assert "prenez-la" in messages.completed("prescription").patient
