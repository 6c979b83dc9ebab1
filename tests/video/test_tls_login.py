"""Over TLS the doctor's session cookie is Secure, and the socket's origin is https."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp

from kiosk.daemon import Daemon
from kiosk.settings import load_settings
from tests.video.conftest import DOCTOR_PASSWORD, DOCTOR_USER, MakeSettings


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_secure_cookie_over_tls(make_settings: MakeSettings, tmp_path: Path) -> None:
    make_settings()  # writes cabin.toml
    cert, key = self_signed(tmp_path)
    toml = tmp_path / "cabin.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "[storage]", f'[network.tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n\n[storage]'
    )
    toml.write_text(text, encoding="utf-8")
    daemon = Daemon(load_settings(toml))
    await daemon.start()
    try:
        url = daemon.url
        assert url is not None and url.startswith("https://")
        client_ssl = ssl.create_default_context(cafile=str(cert))
        client_ssl.check_hostname = False
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(
                f"{url}/doctor/login",
                json={"username": DOCTOR_USER, "password": DOCTOR_PASSWORD},
                headers={"Origin": url},
                ssl=client_ssl,
            ) as response:
                assert response.status == 200
                cookie = response.cookies["kiosk_doctor"]
                assert cookie["secure"] and cookie["httponly"]
            async with http.ws_connect(
                f"{url}/doctor/ws", headers={"Origin": url}, ssl=client_ssl
            ) as ws:
                assert (await ws.receive_json(timeout=10))["type"] == "state"
            plain_origin = url.replace("https://", "http://")
            async with http.get(
                f"{url}/doctor/ws", headers={"Origin": plain_origin}, ssl=client_ssl
            ) as response:
                assert response.status == 403
    finally:
        await daemon.stop()
