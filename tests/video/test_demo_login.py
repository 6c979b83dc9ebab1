"""`kiosk demo` prints a doctor console URL that logs the demo doctor in."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
START_S = 30.0


async def test_demo_console_url_logs_the_demo_doctor_in(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kiosk.cli",
        "demo",
        "--headless",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(START_S):
            while True:
                line = (await proc.stdout.readline()).decode()
                assert line, "the demo exited before printing the console URL"
                found = re.match(r"Doctor console: (http://\S+/doctor/demo-login\?token=\S+)", line)
                if found:
                    url = found.group(1)
                    break
        base = url.split("/doctor/")[0]
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(url.replace("token=", "token=x"), allow_redirects=False) as r:
                assert r.status == 403
            async with http.get(f"{base}/doctor") as r:
                assert 'id="login-form"' in await r.text()
            async with http.get(url) as r:  # follows the redirect to /doctor
                assert r.status == 200
                page = await r.text()
            assert 'id="join"' in page  # the console, logged in
            async with http.ws_connect(f"{base}/doctor/ws", headers={"Origin": base}) as ws:
                state = await ws.receive_json(timeout=10)
                assert state["type"] == "state"
                assert "démonstration" in state["doctor"]
                assert {i["name"] for i in state["instruments"]} >= {"tensiometre"}
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            await proc.communicate()
    assert proc.returncode == 0
