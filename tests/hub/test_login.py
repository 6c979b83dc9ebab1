"""Logging in at the hub: a password, then a TOTP code (enrolled at the first login, with
one-time recovery codes). Wrong passwords, wrong and replayed codes are refused, counted
and audited; sessions are kept in the database (a hub restart logs nobody out); roles
decide who reaches the console; the demo's bypass exists only when `kiosk demo` set it;
over TLS the cookie is Secure and the cabin dials in over wss://."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp
from sqlalchemy import select

from hub.service import Hub
from hub.settings import load_hub_settings
from hub.store.models import AuditEntry, RecoveryCode
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import (
    CALL,
    DOCTOR_PASSWORD,
    Cabins,
    Console,
    add_person,
    cabin_hub_section,
    prepare,
    start_hub,
    write_hub_config,
)
from tests.polling import until


async def audit_of(hub: Hub, action: str) -> list[AuditEntry]:
    async with hub.db.read() as s:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await s.scalars(query)).all())


async def test_first_login_enrols_the_second_factor(hub: Hub) -> None:
    doctor = Console(str(hub.url), "dr.martin")
    try:
        status, body = await doctor.post(
            "/login/password", {"username": "dr.martin", "password": DOCTOR_PASSWORD}
        )
        assert (status, body["next"]) == (200, "enrol")
        async with doctor.http.post(
            str(hub.url) + "/login/password",
            json={"username": "dr.martin", "password": DOCTOR_PASSWORD},
            headers=doctor.origin,
        ) as response:
            cookie = response.cookies["kiosk_hub"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            assert not cookie["secure"]  # plain HTTP on localhost only
        # Half logged in: the console and its socket stay shut.
        status, _ = await doctor.get("/doctor")
        assert status == 303
        async with doctor.http.get(str(hub.url) + "/doctor/ws", headers=doctor.origin) as resp:
            assert resp.status == 401
        status, enrolment = await doctor.get("/login/enrolment")
        assert status == 200
        assert enrolment["uri"].startswith("otpauth://totp/")
        assert "<svg" in enrolment["qr_svg"]
        doctor.secret = enrolment["secret"]
        status, refused = await doctor.post("/login/enrolment", {"code": "000000"})
        assert status == 401 and refused["error"] == "Code incorrect."
        status, body = await doctor.post("/login/enrolment", {"code": doctor.code()})
        assert status == 200 and body["next"] == "/doctor"
        assert len(set(body["recovery_codes"])) == 10
        status, _ = await doctor.get("/doctor")
        assert status == 200
    finally:
        await doctor.close()
    async with hub.db.read() as s:
        stored = (await s.scalars(select(RecoveryCode.code_hash))).all()
    assert body["recovery_codes"][0] not in stored  # only their hashes are kept


async def test_wrong_and_replayed_codes_are_refused_and_audited(hub: Hub) -> None:
    first = Console(str(hub.url), "dr.martin")
    again = Console(str(hub.url), "dr.martin")
    try:
        await first.login()
        used = first.code()  # accepted at enrolment
        status, body = await again.post(
            "/login/password", {"username": "dr.martin", "password": DOCTOR_PASSWORD}
        )
        assert body["next"] == "code"
        status, body = await again.post("/login/code", {"code": used})
        assert status == 401 and "déjà servi" in body["error"]
        status, body = await again.post("/login/code", {"code": "123456"})
        if body.get("next") is None:  # (one time in a million it is the right code)
            assert status == 401 and body["error"] == "Code incorrect."
        # A recovery code works once.
        recovery = first.recovery_codes[0]
        status, body = await again.post("/login/code", {"code": recovery})
        assert status == 200 and body["next"] == "/doctor"
        third = Console(str(hub.url), "dr.martin")
        try:
            password = {"username": "dr.martin", "password": DOCTOR_PASSWORD}
            await third.post("/login/password", password)
            status, body = await third.post("/login/code", {"code": recovery})
            assert status == 401
        finally:
            await third.close()
    finally:
        await first.close()
        await again.close()
    logins = await audit_of(hub, "login")
    reasons = [e.detail.get("reason") for e in logins if e.outcome == "refused"]
    assert "replayed" in reasons
    assert "unknown recovery code" in reasons
    assert any(e.detail.get("method") == "recovery code" for e in logins if e.outcome == "ok")


async def test_wrong_passwords_are_rate_limited(hub: Hub) -> None:
    intruder = Console(str(hub.url), "dr.martin", password="not the password at all")
    try:
        statuses = []
        for _ in range(6):
            status, _ = await intruder.post(
                "/login/password", {"username": "dr.martin", "password": "not the password"}
            )
            statuses.append(status)
        assert statuses == [401] * 5 + [429]
        # Even the right password waits now.
        status, _ = await intruder.post(
            "/login/password", {"username": "dr.martin", "password": DOCTOR_PASSWORD}
        )
        assert status == 429
    finally:
        await intruder.close()
    refused = [e for e in await audit_of(hub, "login") if e.outcome == "refused"]
    assert len(refused) == 5 and all(e.detail["reason"] == "password" for e in refused)


async def test_sessions_survive_a_hub_restart(tmp_path: Path) -> None:
    config = write_hub_config(tmp_path / "hub")

    hub = await start_hub(config)
    await add_person(hub.db, "dr.martin", roles=["doctor"], sites=["NAN231"])
    doctor = Console(str(hub.url), "dr.martin")
    try:
        await doctor.login()
        await hub.stop()
        hub = Hub(load_hub_settings(config))
        await hub.start()
        doctor.url = str(hub.url)  # a new port, the same database
        status, _ = await doctor.get("/doctor")
        assert status == 200
        await doctor.connect()
        assert (await doctor.expect("hello"))["doctor"]["display_name"] == "dr.martin"
    finally:
        await doctor.close()
        await hub.stop()


async def test_a_technician_never_reaches_the_console(hub: Hub) -> None:
    tech = Console(str(hub.url), "tech")
    try:
        await tech.login()
        status, _ = await tech.get("/doctor")
        assert status == 403
        async with tech.http.get(str(hub.url) + "/doctor/ws", headers=tech.origin) as resp:
            assert resp.status == 403
    finally:
        await tech.close()
    refused = [e for e in await audit_of(hub, "access:console") if e.outcome == "refused"]
    assert len(refused) == 2 and {e.actor for e in refused} == {"tech"}


async def test_the_socket_wants_the_hubs_origin(hub: Hub) -> None:
    doctor = Console(str(hub.url), "dr.martin")
    try:
        await doctor.login()
        async with doctor.http.get(
            str(hub.url) + "/doctor/ws", headers={"Origin": "http://evil.example"}
        ) as resp:
            assert resp.status == 403
        status, _ = await doctor.post("/logout", {})
        assert status == 200
        status, _ = await doctor.get("/doctor")
        assert status == 303  # logged out
    finally:
        await doctor.close()


async def test_demo_login_exists_only_when_the_demo_set_it(hub: Hub, tmp_path: Path) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{hub.url}/demo-login?token=x", allow_redirects=False) as resp,
    ):
        assert resp.status == 404  # no token: no such page
    demo = Hub(load_hub_settings(write_hub_config(tmp_path / "demo")), demo_login_token="t0k")
    await prepare(demo.settings)
    await demo.start()
    try:
        await add_person(demo.db, "demo", roles=["doctor"], sites=["NAN231"])
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{demo.url}/demo-login?token=bad", allow_redirects=False) as r:
                assert r.status == 403
            async with http.get(f"{demo.url}/demo-login?token=t0k", allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/doctor"
            async with http.get(f"{demo.url}/doctor", allow_redirects=False) as r:
                assert r.status == 200  # both factors, for the demo account only
    finally:
        await demo.stop()


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_over_tls_the_cookie_is_secure_and_the_cabin_uses_wss(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    tls = f'[tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n'
    hub = await start_hub(write_hub_config(tmp_path / "hub", extra=tls))
    await add_person(hub.db, "dr.martin", roles=["doctor"], sites=["NAN231"])
    assert hub.url is not None and hub.url.startswith("https://")
    client_ssl = ssl.create_default_context(cafile=str(cert))
    cabins = Cabins(tmp_path, hub)
    try:
        connector = aiohttp.TCPConnector(ssl=client_ssl)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:
            async with http.post(
                f"{hub.url}/login/password",
                json={"username": "dr.martin", "password": DOCTOR_PASSWORD},
                headers={"Origin": hub.url},
            ) as response:
                assert response.status == 200
                cookie = response.cookies["kiosk_hub"]
                assert cookie["secure"] and cookie["httponly"]
            plain = hub.url.replace("https://", "http://")
            async with http.post(
                f"{hub.url}/login/password",
                json={"username": "dr.martin", "password": DOCTOR_PASSWORD},
                headers={"Origin": plain},
            ) as response:
                assert response.status == 403
        # The cabin trusts the hub's certificate through [hub] ca_file, and dials wss://.
        extra = CALL + cabin_hub_section(hub.url).replace("[hub]\n", f'[hub]\nca_file = "{cert}"\n')
        await _tls_cabin(cabins, extra)
        await until(lambda: "tls-01" in hub.gateway.connections, what="the cabin over wss")
    finally:
        await cabins.stop()
        await hub.stop()


async def _tls_cabin(cabins: MakeCabin, extra: str) -> None:
    """A cabin whose [hub] carries the CA; enrolled over https with the same CA."""
    from datetime import UTC, datetime, timedelta

    from hub.cabins.enrolment import add_cabin
    from kiosk.daemon import Daemon
    from kiosk.hub_link import credential
    from kiosk.hub_link.enrol import enrol
    from kiosk.settings import load_settings
    from tests.cabin_toml import base_toml

    hub = cabins.hub
    state = cabins.folder / "tls-01"
    config = cabins.folder / "tls-01.toml"
    config.write_text(base_toml(state, cabin_id="tls-01") + extra, encoding="utf-8")
    settings = load_settings(config)
    assert settings.hub is not None and hub.url is not None
    async with hub.db.transaction() as s:
        secret = await add_cabin(s, "tls-01", "NAN231", datetime.now(UTC), timedelta(hours=1))
    token = await enrol(hub.url, "tls-01", secret, settings.hub.ca_file)
    credential.save(state, credential.Credential("tls-01", token))
    daemon = Daemon(settings)
    await daemon.start()
    cabins.started.append(daemon)
