"""Jobs that end without printing: retried, then given up with clear messages, and
reprinted on request. Held jobs (job-hold-until=indefinite) on a private cupsd stand in
for a job that never completes or that someone cancels."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from kiosk.events import PrintJobUpdated
from printer.service import PrinterService
from tests.printer.conftest import StartService, needs_root, until
from tests.printer.cups_env import PrivateCups, remove_copies, wait_for_copies

pytestmark = needs_root

HOLD = {"job-hold-until": "indefinite", "pdftops-renderer": "pdftocairo"}


def job_id(service: PrinterService) -> int | None:
    value = service._store().get(service.documents()[0]["id"])["cups_job_id"]
    return int(value) if value is not None else None


def cancel(cups: PrivateCups, job: int) -> None:
    subprocess.run(["cancel", "-h", str(cups.socket), str(job)], check=True)


async def test_cancelled_jobs_are_retried_then_given_up_then_reprinted(
    start_service: StartService,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    service = await start_service(str(private_cups.socket), max_attempts=2, job_options=HOLD)
    events = service.ctx.bus.subscribe(PrintJobUpdated)
    number = prescription["number"]
    try:
        doc_id = await service.submit_prescription(prescription, "s1")
        await until(lambda: job_id(service) is not None, 30, "first job")
        first = job_id(service)
        assert first is not None
        await until(lambda: service.documents()[0]["state"] == "printing", 30, "printing")
        await asyncio.to_thread(cancel, private_cups, first)
        await until(lambda: job_id(service) not in (None, first), 30, "second job")
        second = job_id(service)
        assert second is not None
        await until(lambda: service.documents()[0]["state"] == "printing", 30, "printing")
        await asyncio.to_thread(cancel, private_cups, second)
        seen: list[PrintJobUpdated] = []

        def gave_up() -> bool:
            while (event := events.get_nowait()) is not None:
                seen.append(event)
            return bool(seen) and seen[-1].state == "failed"

        # The state is committed, then announced: wait for the announcement.
        await until(gave_up, 30, "given up")
        assert service.documents()[0]["state"] == "failed"
        failed = seen[-1]
        assert failed.state == "failed"
        assert "réimprimer" in failed.message_patient
        assert "2 essais" in failed.message_doctor
        assert "retrying" in [e.state for e in seen]
        assert service.documents()[0]["attempts"] == 2
        assert service.status()["pending"] == 0

        # The technician fixes the printer; a reprint from the kiosk prints it.
        await service.reprint(doc_id)
        await until(lambda: job_id(service) not in (None, second), 30, "reprint job")
        third = job_id(service)
        await asyncio.to_thread(
            subprocess.run,
            ["lp", "-h", str(private_cups.socket), "-i", str(third), "-H", "resume"],
            check=True,
        )
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "reprinted")
        assert len(await asyncio.to_thread(wait_for_copies, number, test_start, 1, 60)) == 1
    finally:
        events.close()
        remove_copies(number, test_start)


async def test_a_job_that_never_completes_times_out_and_is_cancelled(
    start_service: StartService, private_cups: PrivateCups, prescription: dict[str, Any]
) -> None:
    service = await start_service(
        str(private_cups.socket), max_attempts=2, job_options=HOLD, job_timeout_s=0.5
    )
    await service.submit_prescription(prescription, "s1")
    await until(lambda: service.documents()[0]["state"] == "failed", 30, "given up")
    jobs = await asyncio.to_thread(
        subprocess.run,
        ["lpstat", "-h", str(private_cups.socket), "-o"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert jobs.stdout.strip() == "", "timed-out jobs are cancelled, none left to print later"


async def test_queue_disabled_while_a_job_waits_prints_it_once_enabled(
    start_service: StartService,
    private_cups: PrivateCups,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    """The job is already in CUPS when the queue stops: it is kept (not sent again) and
    prints once, when the queue is back."""
    service = await start_service(str(private_cups.socket), job_options=HOLD)
    number = prescription["number"]
    try:
        await service.submit_prescription(prescription, "s1")
        await until(lambda: service.documents()[0]["state"] == "printing", 30, "printing")
        job = job_id(service)
        await asyncio.to_thread(private_cups.disable)
        await asyncio.to_thread(
            subprocess.run,
            ["lp", "-h", str(private_cups.socket), "-i", str(job), "-H", "resume"],
            check=True,
        )
        await until(lambda: service.documents()[0]["state"] == "retrying", 30, "retrying")
        assert "cupsenable PDF" in service.status()["message"]
        assert job_id(service) == job  # the same job waits in CUPS
        await asyncio.to_thread(private_cups.enable)
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "printed")
        assert job_id(service) == job
        assert service.documents()[0]["attempts"] == 1
        copies = await asyncio.to_thread(wait_for_copies, number, test_start, 2, 3.0)
        assert len(copies) == 1
    finally:
        await asyncio.to_thread(private_cups.enable)
        remove_copies(number, test_start)
