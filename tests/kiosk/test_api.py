"""The HTTP API of a real in-process daemon: status, health, metrics, appointments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from kiosk.daemon import Daemon
from kiosk.settings import load_settings

from .conftest import TEST_TOKEN, WriteConfig

AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}


@pytest.fixture
async def api(write_config: WriteConfig) -> AsyncIterator[tuple[Daemon, aiohttp.ClientSession]]:
    daemon = Daemon(load_settings(write_config()))
    await daemon.start()
    try:
        async with aiohttp.ClientSession(base_url=daemon.url) as http:
            yield daemon, http
    finally:
        await daemon.stop()


def appointment(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0)
    body = {
        "slot_start": start.isoformat(),
        "slot_end": (start + timedelta(minutes=30)).isoformat(),
        "family_name": "Dupont",
        "given_name": "Hélène",
        "birth_date": "1948-03-02",
        "reason": "toux",
    }
    body.update(overrides)
    return body


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


async def test_appointments_need_the_token(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    _, http = api
    async with http.get("/api/appointments") as resp:
        assert resp.status == 401
    async with http.post(
        "/api/appointments", json=appointment(), headers={"Authorization": "Bearer wrong"}
    ) as resp:
        assert resp.status == 401
    async with http.get("/api/appointments", headers=AUTH) as resp:
        assert resp.status == 200 and await resp.json() == []


async def test_appointment_lifecycle(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    daemon, http = api
    async with http.post(
        "/api/appointments", json=appointment(code="123456"), headers=AUTH
    ) as resp:
        assert resp.status == 201
        created = await resp.json()
    assert created["code"] == "123456" and created["given_name"] == "Hélène"
    assert daemon.ctx is not None
    found = daemon.ctx.appointments.find_by_code("123456")
    assert found is not None and found.id == created["id"]
    assert daemon.ctx.appointments.find_by_code("654321") is None
    # The same code on an overlapping slot is refused.
    async with http.post(
        "/api/appointments", json=appointment(code="123456"), headers=AUTH
    ) as resp:
        assert resp.status == 409
    # Without a code, one is generated.
    async with http.post("/api/appointments", json=appointment(), headers=AUTH) as resp:
        generated = await resp.json()
    assert len(generated["code"]) == 6 and generated["code"].isdigit()
    async with http.get("/api/appointments", headers=AUTH) as resp:
        assert len(await resp.json()) == 2
    async with http.delete(f"/api/appointments/{created['id']}", headers=AUTH) as resp:
        assert resp.status == 204
    async with http.delete(f"/api/appointments/{created['id']}", headers=AUTH) as resp:
        assert resp.status == 404
    assert daemon.ctx.appointments.find_by_code("123456") is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (appointment(birth_date="2999-01-01"), "(body)"),
        (appointment(code="12ab56"), "code"),
        (appointment(slot_start="2026-11-23T09:00:00"), "(body)"),
        ({"family_name": "x"}, "slot_start"),
        (appointment(unexpected=1), "unexpected"),
    ],
)
async def test_bad_appointments_are_refused_with_the_field(
    api: tuple[Daemon, aiohttp.ClientSession], body: dict[str, Any], field: str
) -> None:
    _, http = api
    async with http.post("/api/appointments", json=body, headers=AUTH) as resp:
        assert resp.status == 422
        problems = (await resp.json())["problems"]
    assert field in [p["field"] for p in problems]
    async with http.get("/api/appointments", headers=AUTH) as resp:
        assert await resp.json() == []


async def test_a_body_that_is_not_json(api: tuple[Daemon, aiohttp.ClientSession]) -> None:
    _, http = api
    async with http.post("/api/appointments", data=b"\xff{", headers=AUTH) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "the body is not JSON"


async def test_appointments_are_purged_after_retention(
    api: tuple[Daemon, aiohttp.ClientSession],
) -> None:
    daemon, http = api
    old = datetime.now(UTC) - timedelta(days=10)
    async with http.post(
        "/api/appointments",
        headers=AUTH,
        json=appointment(
            slot_start=old.isoformat(), slot_end=(old + timedelta(minutes=30)).isoformat()
        ),
    ) as resp:
        assert resp.status == 201
    assert daemon.ctx is not None
    assert daemon.ctx.appointments.purge(datetime.now(UTC) - timedelta(days=2)) == 1


async def test_no_patient_data_in_logs(
    api: tuple[Daemon, aiohttp.ClientSession], caplog: pytest.LogCaptureFixture
) -> None:
    _, http = api
    caplog.set_level("DEBUG")
    async with http.post(
        "/api/appointments", json=appointment(family_name="Zanzibarov"), headers=AUTH
    ) as resp:
        assert resp.status == 201
    async with http.get("/api/appointments", headers=AUTH) as resp:
        assert "Zanzibarov" in await resp.text()
    assert "Zanzibarov" not in caplog.text
    assert "1948-03-02" not in caplog.text
