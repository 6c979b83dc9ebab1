"""`kiosk demo` as a newcomer runs it: a real process, its printed lines, live simulated
readings, the printed doctor link that logs in (and opens the console's socket), and a
fresh cabin at every run."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.kiosk.process import REPO
from tests.polling import until
from tests.terminal import drain_until_exit, read_until, spawn_in_terminal
from video.auth import COOKIE_NAME

START_S = 30.0  # a demo starts in ~2 s here; allow for a loaded machine
READINGS_S = 20.0  # the simulated instruments give a first reading within a few seconds
STOP_S = 15.0  # SIGTERM → exit: the daemon's own bound is 5 s


class Demo:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def line_starting(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(START_S):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"demo exited before '{prefix}': {self.lines}")
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()

    async def status(self, http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
        async with http.get(url) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
            return body


@asynccontextmanager
async def demo_process(*args: str) -> AsyncIterator[Demo]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kiosk.cli",
        "demo",
        "--headless",
        "--port",
        "0",
        *args,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    demo = Demo(proc)
    try:
        yield demo
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_S):
                await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    assert proc.returncode == 0, demo.lines


def readings(status: dict[str, Any]) -> dict[str, Any]:
    return {i["name"]: i["last"] for i in status["instruments"] if i.get("last")}


async def test_demo_prints_its_links_and_serves_a_live_cabin() -> None:
    async with (
        demo_process("--simulated-patient") as demo,
        aiohttp.ClientSession() as http,
    ):
        console = await demo.line_starting("Doctor console: ")
        status_url = await demo.line_starting("Status: ")
        assert console.startswith("http://127.0.0.1:") and "/doctor/demo-login?token=" in console
        assert status_url.endswith("/api/status") and status_url.startswith("http://127.0.0.1:")
        assert "123456" in await demo.line_starting("Appointment code: ")
        await demo.line_starting("Simulated patient: checked in")

        # The simulated instruments: every one of them gives coded readings.
        async def all_read() -> dict[str, Any] | None:
            status = await demo.status(http, status_url)
            got = readings(status)
            return status if len(got) == len(status["instruments"]) == 5 else None

        status: dict[str, Any] | None = await until(
            all_read, READINGS_S, "readings from the simulated instruments"
        )
        assert status is not None
        assert status["state"] == "waiting" and status["locked"] is True
        blood_pressure = readings(status)["tensiometre"]["observations"]
        assert {o["code"] for o in blood_pressure} >= {"8480-6", "8462-4"}
        assert all(o["unit"] == "mm[Hg]" for o in blood_pressure if o["code"] != "8867-4")

        # The printed link logs the demo doctor in: a redirect that sets the cookie.
        doctor_page = console.split("/doctor/")[0] + "/doctor"
        async with http.get(doctor_page) as resp:
            assert resp.status == 200 and 'id="join"' not in await resp.text()
        wrong = console.split("token=")[0] + "token=not-the-token"
        async with http.get(wrong, allow_redirects=False) as resp:
            assert resp.status == 403
        async with http.get(console, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/doctor"
            cookie = resp.cookies[COOKIE_NAME]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
            cookies = {COOKIE_NAME: cookie.value}
        base = console.split("/doctor/")[0]
        async with aiohttp.ClientSession(cookies=cookies) as doctor:
            async with doctor.get(doctor_page) as resp:
                assert resp.status == 200
                page = await resp.text()
            assert 'id="join"' in page and "<title>Console médecin</title>" in page
            # The console's socket knows the demo doctor and the simulated instruments.
            async with doctor.ws_connect(f"{base}/doctor/ws", headers={"Origin": base}) as ws:
                state = await ws.receive_json(timeout=10)
        assert state["type"] == "state"
        assert "démonstration" in state["doctor"]
        assert {i["name"] for i in state["instruments"]} >= {"tensiometre"}


async def test_every_run_starts_fresh_unless_a_state_dir_is_given(tmp_path: Path) -> None:
    async def state_after_a_patient_left(*args: str) -> str:
        async with demo_process("--simulated-patient", *args) as demo:
            await demo.line_starting("Simulated patient: checked in")
        async with demo_process(*args) as demo, aiohttp.ClientSession() as http:
            status = await demo.status(http, await demo.line_starting("Status: "))
        assert isinstance(status["state"], str)
        return status["state"]

    # The first run's patient was in the booth; the second run does not know them.
    assert await state_after_a_patient_left() == "idle"
    # With --state-dir the cabin remembers: that booth needs its disinfection.
    kept = await state_after_a_patient_left("--state-dir", str(tmp_path / "state"))
    assert kept == "awaiting_disinfection"


def test_demo_with_its_touchscreen_in_a_terminal_and_ctrl_q_stops_it() -> None:
    """`kiosk demo` as `make demo` runs it: the links printed, then the touchscreen in the
    same terminal (welcome screen with the demo code, the console link on its bottom
    line); Ctrl-Q stops the UI and the daemon, exit status 0."""
    demo, master = spawn_in_terminal([sys.executable, "-m", "kiosk.cli", "demo", "--port", "0"])
    try:
        read_until(
            master,
            "Doctor console: http://127.0.0.1:",
            "Status: http://127.0.0.1:",
            "Commencer",
            "code 123456",
            "Console médecin / doctor console: http://127.0.0.1:",
            within_s=START_S,
        )
        os.write(master, b"\x11")  # Ctrl-Q
        # The UI closes, then the daemon stops. Keep reading the terminal meanwhile: a pty
        # nobody reads fills (4 KiB) and blocks the demo's last screen writes and logs.
        assert drain_until_exit(demo, master, STOP_S + START_S) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        os.close(master)
