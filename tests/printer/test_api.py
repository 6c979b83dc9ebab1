"""HTTP routes of the printer: guarded by the UI token, no patient data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kiosk.ui_auth import HEADER
from printer.service import PrinterService
from tests.printer.conftest import StartService, needs_system_cups, until
from tests.printer.cups_env import remove_copies, wait_for_copies

pytestmark = needs_system_cups


@pytest.fixture
async def service(start_service: StartService) -> PrinterService:
    return await start_service(None)


@pytest.fixture
async def client(service: PrinterService) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app.add_routes(service.routes())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


AUTH = {HEADER: "ui-test-token"}


async def test_routes_need_the_ui_token(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/api/print/documents")
    assert resp.status == 401
    resp = await client.get("/api/print/documents", headers={HEADER: "wrong"})
    assert resp.status == 401
    resp = await client.post("/api/print/x/reprint")
    assert resp.status == 401


async def test_documents_and_reprint(
    client: TestClient[Any, Any],
    service: PrinterService,
    prescription: dict[str, Any],
    test_start: float,
) -> None:
    number = prescription["number"]
    try:
        doc_id = await service.submit_prescription(prescription, "sess-a")
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "printed")
        resp = await client.get("/api/print/documents?session_id=sess-a", headers=AUTH)
        assert resp.status == 200
        docs = await resp.json()
        assert [d["id"] for d in docs] == [doc_id]
        assert docs[0]["number"] == number
        assert "Dupont" not in str(docs)
        resp = await client.get("/api/print/documents?session_id=other", headers=AUTH)
        assert await resp.json() == []
        resp = await client.post(f"/api/print/{doc_id}/reprint", headers=AUTH)
        assert resp.status == 202
        await until(lambda: service.documents()[0]["state"] == "completed", 60, "reprinted")
        assert len(await asyncio.to_thread(wait_for_copies, number, test_start, 2, 60)) == 2
        resp = await client.post("/api/print/nope/reprint", headers=AUTH)
        assert resp.status == 404
    finally:
        remove_copies(number, test_start)
