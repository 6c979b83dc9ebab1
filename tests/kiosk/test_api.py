"""The HTTP API of a real in-process daemon: status, health, metrics; no appointment API
(bookings are made at the hub and pushed to the cabin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
import pytest

from kiosk.daemon import Daemon
from kiosk.settings import load_settings
from kiosk.ui_auth import HEADER
from tests.appointments import push_appointment
from tests.checkin_steps import checkin_requests

from .conftest import WriteConfig


@pytest.fixture
async def api(write_config: WriteConfig) -> AsyncIterator[tuple[Daemon, aiohttp.ClientSession]]:
    daemon = Daemon(load_settings(write_config()))
    await daemon.start()
    try:
        async with aiohttp.ClientSession(base_url=daemon.url) as http:
            yield daemon, http
    finally:
        await daemon.stop()


async def test_status_document(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    _, http = api
    async with http.get("/api/status") as resp:
        assert resp.status == 200
        doc = await resp.json()
    assert doc["cabin_id"] == "test-01"
    assert doc["state"] == "idle" and doc["locked"] is False
    assert datetime.fromisoformat(doc["since"]).tzinfo is not None
    assert isinstance(doc["instruments"], list)
    assert "printer" in doc
    async with http.get("/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True


async def test_metrics_follow_the_state(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    daemon, http = api
    assert daemon.ctx is not None
    daemon.ctx.lifecycle.transition(daemon.ctx.lifecycle.state.CHECK_IN, "test")
    async with http.get("/metrics") as resp:
        text = await resp.text()
    assert 'kiosk_state{state="check_in"} 1.0' in text
    assert 'kiosk_state{state="idle"} 0.0' in text
    assert "kiosk_locked 1.0" in text


async def test_no_appointment_api_any_more(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    """Booking happens at the hub: the cabin's old routes are gone, nothing is taken."""
    daemon, http = api
    async with http.post("/api/appointments", json={"code": "123456"}) as resp:
        assert resp.status in (404, 405)
    async with http.get("/api/appointments") as resp:
        assert resp.status == 404
    assert daemon.ctx is not None and daemon.ctx.appointments.list() == []


async def test_no_patient_data_in_logs(
    api: tuple[Daemon, aiohttp.ClientSession], caplog: pytest.LogCaptureFixture
) -> None:
    daemon, http = api
    caplog.set_level("DEBUG")
    assert daemon.ctx is not None
    push_appointment(daemon.ctx.appointments, family_name="Zanzibarov")
    headers = {HEADER: daemon.ctx.ui_token}
    for path, body in checkin_requests("123456", "Zanzibarov", "Hélène", "1948-03-02"):
        async with http.post(path, json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
    assert "Zanzibarov" not in caplog.text
    assert "1948-03-02" not in caplog.text
