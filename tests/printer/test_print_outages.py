"""A disabled queue and a stopped scheduler: clear messages, the document waits, then
prints exactly once when the printer is back. Runs on a private cupsd (real binary, own
spool and socket) so the machine's CUPS is never disturbed."""

from __future__ import annotations

import asyncio
from typing import Any

from kiosk.events import PrintJobUpdated
from tests.printer.conftest import StartService, needs_root, until
from tests.printer.cups_env import PrivateCups, printed_copies, remove_copies, wait_for_copies

pytestmark = needs_root

PRINT_TIMEOUT_S = 60.0


def drain(sub: Any) -> list[PrintJobUpdated]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event)
    return out


async def test_disabled_printer_waits_then_prints(
    start_service: StartService,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    await asyncio.to_thread(private_cups.disable)
    try:
        service = await start_service(str(private_cups.socket))
        events = service.ctx.bus.subscribe(PrintJobUpdated)
        doc_id = await service.submit_prescription(prescription, "s1")
        await until(lambda: service.documents()[0]["state"] == "retrying", 30, "retrying")
        retrying = [e for e in drain(events) if e.state == "retrying"]
        assert retrying, "a retrying event is published"
        assert retrying[0].document_id == doc_id
        assert "cupsenable PDF" in retrying[0].message_technician
        assert "enregistré" in retrying[0].message_patient
        assert "désactivée" in retrying[0].message_doctor
        status = service.status()
        assert status["state"] == "stopped"
        assert "paused" in status["reasons"]
        assert "cupsenable PDF" in status["message"]
        assert status["pending"] == 1
        assert printed_copies(number, test_start) == []
        await asyncio.to_thread(private_cups.enable)
        await until(
            lambda: service.documents()[0]["state"] == "completed", PRINT_TIMEOUT_S, "printed"
        )
        assert [e.state for e in drain(events)][-1] == "completed"
        assert (
            len(await asyncio.to_thread(wait_for_copies, number, test_start, 1, PRINT_TIMEOUT_S))
            == 1
        )
        events.close()
    finally:
        await asyncio.to_thread(private_cups.enable)
        remove_copies(number, test_start)


async def test_cups_stopped_is_unreachable_then_prints_once_back(
    start_service: StartService,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    await asyncio.to_thread(private_cups.stop)
    try:
        service = await start_service(str(private_cups.socket))
        events = service.ctx.bus.subscribe(PrintJobUpdated)
        await service.submit_prescription(prescription, "s1")
        await until(lambda: service.documents()[0]["state"] == "retrying", 30, "retrying")
        retrying = [e for e in drain(events) if e.state == "retrying"]
        assert "injoignable" in retrying[0].message_doctor
        assert "CUPS" in retrying[0].message_technician
        status = service.status()
        assert status["state"] == "unreachable"
        assert "CUPS" in status["message"]
        await asyncio.to_thread(private_cups.start)
        await until(
            lambda: service.documents()[0]["state"] == "completed", PRINT_TIMEOUT_S, "printed"
        )
        assert (
            len(await asyncio.to_thread(wait_for_copies, number, test_start, 1, PRINT_TIMEOUT_S))
            == 1
        )
        events.close()
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
    assert "NO-SUCH-QUEUE" in service.status()["message"]
    assert service.status()["pending"] == 1
