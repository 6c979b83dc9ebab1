"""HTTP routes of the printer (UI token) and invariant 3: a document goes to its own
patient only, never to the next one in the booth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kiosk.lifecycle import Lifecycle, State
from kiosk.ui_auth import HEADER
from printer.service import PrinterService
from tests.disinfection import mark_test_disinfection
from tests.printer.conftest import EventLog, StartService, needs_system_cups, until
from tests.printer.cups_env import remove_copies, wait_for_copies

pytestmark = needs_system_cups

AUTH = {HEADER: "ui-test-token"}


@pytest.fixture
async def service(start_service: StartService) -> PrinterService:
    return await start_service(None)


@pytest.fixture
async def client(service: PrinterService) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app.add_routes(service.routes())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def disinfected(lifecycle: Lifecycle) -> None:
    """The patient leaves and the referent logs the disinfection: the cabin is idle."""
    lifecycle.transition(State.AWAITING_DISINFECTION, "test")
    lifecycle.transition(State.CLEANING, "test")
    session = lifecycle.session_id
    assert session is not None
    mark_test_disinfection(lifecycle.store, session)
    lifecycle.transition(State.IDLE, "test")


def next_patient(lifecycle: Lifecycle) -> str:
    """Ends the current session (disinfection logged) and opens the next one."""
    if lifecycle.state is not State.IDLE:
        disinfected(lifecycle)
    lifecycle.transition(State.CHECK_IN, "test")
    assert lifecycle.session_id is not None
    return lifecycle.session_id


async def test_routes_need_the_ui_token(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/print/documents")
    assert resp.status == 401
    resp = await client.get("/api/print/documents", headers={HEADER: "wrong"})
    assert resp.status == 401
    resp = await client.post("/api/print/x/reprint")
    assert resp.status == 401


async def test_documents_and_reprint_for_the_patient_in_the_booth_only(
    client: TestClient[Any, Any],
    service: PrinterService,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    lifecycle = service.ctx.lifecycle
    try:
        first_patient = next_patient(lifecycle)
        doc_id = await service.submit_prescription(prescription, None)
        assert service.documents()[0]["session_id"] == first_patient
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "printed")
        resp = await client.get("/api/print/documents", headers=AUTH)
        assert resp.status == 200
        docs = await resp.json()
        assert [d["id"] for d in docs] == [doc_id]
        assert docs[0]["number"] == number
        assert "Dupont" not in str(docs)
        resp = await client.post(f"/api/print/{doc_id}/reprint", headers=AUTH)
        assert resp.status == 202
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "reprinted")
        assert len(await asyncio.to_thread(wait_for_copies, number, test_start, 2, 60)) == 2
        resp = await client.post("/api/print/nope/reprint", headers=AUTH)
        assert resp.status == 404

        next_patient(lifecycle)
        resp = await client.get("/api/print/documents", headers=AUTH)
        assert await resp.json() == []
        resp = await client.post(f"/api/print/{doc_id}/reprint", headers=AUTH)
        assert resp.status == 403
        assert service.documents()[0]["state"] == "completed"
    finally:
        remove_copies(number, test_start)


async def test_previous_patients_document_waits_for_a_free_booth(
    service: PrinterService,
    event_log: Callable[[PrinterService], EventLog],
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    lifecycle = service.ctx.lifecycle
    try:
        first = next_patient(lifecycle)
        next_patient(lifecycle)  # someone else is in the booth now
        events = event_log(service)
        # e.g. stored during the first consultation while the printer was away
        await service.submit_prescription(prescription, first)
        await until(lambda: service.documents()[0]["state"] == "retrying", 30, "held")
        assert service._store().list()[0]["cups_job_id"] is None
        assert events.states == ["stored"]  # nothing shown to the patient in the booth
        assert "consultation précédente" in service.status()["message"]
        # The booth empties: the held document prints.
        disinfected(lifecycle)
        await events.wait_for("completed", 60)
        assert len(await asyncio.to_thread(wait_for_copies, number, test_start, 1, 60)) == 1
    finally:
        remove_copies(number, test_start)
