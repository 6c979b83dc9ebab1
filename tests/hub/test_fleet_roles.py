"""Who reaches the fleet dashboard and the audit trail: technicians and administrators
the dashboard, administrators alone the audit; a doctor asking for either gets 403 and
the refusal is audited; a technician gets 403 for the queue, the bookings and the audit;
nobody logged in is sent to the login; the socket wants the hub's own Origin."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from hub.service import Hub
from hub.store.models import AuditEntry
from hub.web.common import CSP
from tests.hub.fleet import Console, add_person

FLEET_JSON = "/api/v1/fleet"
AUDIT_JSON = "/api/v1/audit"


async def refusals(hub: Hub, actor: str) -> list[tuple[str, str]]:
    async with hub.db.read() as s:
        rows = await s.scalars(
            select(AuditEntry)
            .where(AuditEntry.actor == actor, AuditEntry.outcome == "refused")
            .order_by(AuditEntry.id)
        )
        return [(r.action, r.target) for r in rows]


async def socket_status(console: Console, headers: dict[str, str]) -> int:
    try:
        ws = await console.http.ws_connect(console.url + "/fleet/ws", headers=headers)
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


async def test_nobody_logged_in(hub: Hub) -> None:
    anyone = Console(str(hub.url), "nobody")
    try:
        for page in ("/fleet", "/audit"):
            async with anyone.http.get(anyone.url + page, allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/login"
        for api in (FLEET_JSON, AUDIT_JSON):
            status, body = await anyone.get(api)
            assert status == 401 and body["error"] == "Connectez-vous d'abord."
        assert await socket_status(anyone, anyone.origin) == 401
    finally:
        await anyone.close()


async def test_a_doctor_is_refused_and_it_is_audited(hub: Hub) -> None:
    doctor = Console(str(hub.url), "dr.martin")
    try:
        await doctor.login()
        for path in ("/fleet", FLEET_JSON, "/audit", AUDIT_JSON):
            status, body = await doctor.get(path)
            assert status == 403, path
            assert body["error"].startswith("Accès r") and "patient" not in body["error"]
        assert await socket_status(doctor, doctor.origin) == 403
    finally:
        await doctor.close()
    assert await refusals(hub, "dr.martin") == [
        ("access:fleet", "/fleet"),
        ("access:fleet", FLEET_JSON),
        ("access:audit", "/audit"),
        ("access:audit", AUDIT_JSON),
        ("access:fleet", "/fleet/ws"),
    ]


async def test_a_technician_sees_the_fleet_and_nothing_else(hub: Hub) -> None:
    tech = Console(str(hub.url), "tech")
    try:
        await tech.login()
        async with tech.http.get(tech.url + "/fleet") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Security-Policy"] == CSP
            html = await resp.text()
        assert '<script src="/fleet/static/fleet.js" defer></script>' in html
        assert "<script>" not in html and "http" not in html.replace("http-equiv", "")
        status, fleet = await tech.get(FLEET_JSON)
        assert status == 200 and fleet["viewer"] == {"username": "tech", "audit": False}
        assert await socket_status(tech, tech.origin) == 101

        for path in (AUDIT_JSON, "/audit", "/api/v1/sites/NAN231/bookings", "/doctor"):
            status, _ = await tech.get(path)
            assert status == 403, path
        try:
            await tech.http.ws_connect(tech.url + "/doctor/ws", headers=tech.origin)
            raise AssertionError("the queue's socket let a technician in")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 403
    finally:
        await tech.close()
    refused = [action for action, _ in await refusals(hub, "tech")]
    assert refused.count("access:audit") == 2
    assert "access:console" in refused


@pytest.mark.parametrize(
    "headers", [{}, {"Origin": "https://evil.example"}], ids=["no origin", "another origin"]
)
async def test_the_socket_wants_the_hubs_origin(hub: Hub, headers: dict[str, str]) -> None:
    tech = Console(str(hub.url), "tech")
    try:
        await tech.login()
        assert await socket_status(tech, headers) == 403
    finally:
        await tech.close()


async def test_an_administrator_sees_both(hub: Hub) -> None:
    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    admin = Console(str(hub.url), "admin")
    try:
        await admin.login()
        status, fleet = await admin.get(FLEET_JSON)
        assert status == 200 and fleet["viewer"] == {"username": "admin", "audit": True}
        status, trail = await admin.get(AUDIT_JSON)
        assert status == 200 and trail["entries"]
        async with admin.http.get(admin.url + "/audit") as resp:
            assert resp.status == 200 and resp.headers["Content-Security-Policy"] == CSP
    finally:
        await admin.close()
    assert await refusals(hub, "admin") == []
