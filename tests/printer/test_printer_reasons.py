"""A printer out of paper, jammed or with its door open, as CUPS reports it: a real
cupsd whose backend reports the condition (STATE: +media-empty-error) and stops the
queue. The job already sent waits in CUPS and prints once, after the fix."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from printer.service import PrinterService
from tests.printer.conftest import EventLog, StartService, needs_root, until
from tests.printer.cups_env import PrivateCups

pytestmark = needs_root


@pytest.mark.parametrize(
    "case",
    [
        ("media-empty", "n'a plus de papier", "plus de papier", "Recharger le papier"),
        ("media-jam", "coincé", "bourrage papier", "Retirer le papier coincé"),
        ("door-open", "trappe", "trappe ouverte", "Fermer la trappe"),
    ],
)
async def test_printer_condition_is_told_then_the_job_prints_once(
    start_service: StartService,
    event_log: Callable[[PrinterService], EventLog],
    fake_cups: PrivateCups,
    prescription: dict[str, Any],
    case: tuple[str, str, str, str],
) -> None:
    condition, patient, doctor, technician = case
    fake_cups.set_fake_state(condition)
    service = await start_service(str(fake_cups.socket), queue="FAKE")
    events = event_log(service)
    await service.submit_prescription(prescription, "s1")
    retrying = await events.wait_for("retrying", 30)
    assert patient in retrying.message_patient
    assert "enregistré" in retrying.message_patient
    assert doctor in retrying.message_doctor
    assert technician in retrying.message_technician
    await until(lambda: service.status()["state"] == "stopped", 10, "queue stopped")
    status = service.status()
    assert f"{condition}-error" in status["reasons"]
    assert technician in status["message"]
    job = service._store().list()[0]["cups_job_id"]
    assert job is not None

    # The technician fixes the printer and restarts the queue.
    fake_cups.set_fake_state("ok")
    await asyncio.to_thread(fake_cups.enable, "FAKE")
    await events.wait_for("completed", 60)
    doc = service._store().list()[0]
    assert (doc["cups_job_id"], doc["attempts"]) == (job, 1)  # the same job, not resent
    assert len(fake_cups.fake_outputs()) == 1
    await until(lambda: service.status()["reasons"] == [], 10, "reasons cleared")
    assert service.status()["message"] == ""


async def test_toner_low_is_a_warning_only(
    start_service: StartService,
    event_log: Callable[[PrinterService], EventLog],
    fake_cups: PrivateCups,
    prescription: dict[str, Any],
) -> None:
    fake_cups.set_fake_state("toner-low-report")
    service = await start_service(str(fake_cups.socket), queue="FAKE")
    events = event_log(service)
    await service.submit_prescription(prescription, "s1")
    await events.wait_for("completed", 60)
    assert "retrying" not in events.states
    assert len(fake_cups.fake_outputs()) == 1
    await until(lambda: "toner-low-report" in service.status()["reasons"], 10, "toner low")
    assert "Toner bientôt vide" in service.status()["message"]
