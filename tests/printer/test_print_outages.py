"""A disabled queue and a stopped scheduler: clear messages, the document waits, then
prints exactly once when the printer is back. Runs on a private cupsd (real binary, own
spool and socket) so the machine's CUPS is never disturbed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from printer.service import PrinterService
from tests.printer.conftest import EventLog, StartService, needs_root, until
from tests.printer.cups_env import PrivateCups, printed_copies, remove_copies, wait_for_copies

pytestmark = needs_root

PRINT_TIMEOUT_S = 60.0
EventLogFactory = Callable[[PrinterService], EventLog]


async def test_disabled_printer_waits_then_prints(
    start_service: StartService,
    event_log: EventLogFactory,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    await asyncio.to_thread(private_cups.disable)
    try:
        service = await start_service(str(private_cups.socket))
        events = event_log(service)
        doc_id = await service.submit_prescription(prescription, "s1")
        retrying = await events.wait_for("retrying", 30)
        assert retrying.document_id == doc_id
        assert "cupsenable PDF" in retrying.message_technician
        assert "enregistré" in retrying.message_patient
        assert "désactivée" in retrying.message_doctor
        assert service.documents()[0]["state"] == "retrying"
        status = service.status()
        assert status["state"] == "stopped"
        assert "paused" in status["reasons"]
        assert "cupsenable PDF" in status["message"]
        assert status["pending"] == 1
        assert printed_copies(number, test_start) == []
        await asyncio.to_thread(private_cups.enable)
        await events.wait_for("completed", PRINT_TIMEOUT_S)
        assert service.documents()[0]["state"] == "completed"
        copies = await asyncio.to_thread(wait_for_copies, number, test_start, 2, 3.0)
        assert len(copies) == 1
    finally:
        await asyncio.to_thread(private_cups.enable)
        remove_copies(number, test_start)


async def test_cups_stopped_is_unreachable_then_prints_once_back(
    start_service: StartService,
    event_log: EventLogFactory,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    await asyncio.to_thread(private_cups.stop)
    try:
        service = await start_service(str(private_cups.socket))
        events = event_log(service)
        await service.submit_prescription(prescription, "s1")
        retrying = await events.wait_for("retrying", 30)
        assert "injoignable" in retrying.message_doctor
        assert "CUPS" in retrying.message_technician
        status = service.status()
        assert status["state"] == "unreachable"
        assert "CUPS" in status["message"]
        await asyncio.to_thread(private_cups.start)
        await events.wait_for("completed", PRINT_TIMEOUT_S)
        copies = await asyncio.to_thread(wait_for_copies, number, test_start, 2, 3.0)
        assert len(copies) == 1
    finally:
        if private_cups.proc is None:
            await asyncio.to_thread(private_cups.start)
        remove_copies(number, test_start)


async def test_missing_queue_is_reported_for_the_technician(
    start_service: StartService, private_cups: PrivateCups, prescription: dict[str, Any]
) -> None:
    service = await start_service(str(private_cups.socket))
    object.__setattr__(service.client, "queue", "NO-SUCH-QUEUE")
    await service.submit_prescription(prescription, "s1")
    await until(lambda: service.documents()[0]["state"] == "retrying", 30, "retrying")
    await until(lambda: "NO-SUCH-QUEUE" in service.status()["message"], 10, "message")
    assert service.status()["pending"] == 1
