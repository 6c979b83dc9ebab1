"""`kiosk demo` as a newcomer runs it: a real process (a hub and three cabin daemons), its
printed lines, live simulated readings, the simulated patients of Chelles and Moret in
the doctor's waiting room, the printed links that log each role in, the printed
password and TOTP code that log in the normal way, and a fresh fleet at every run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from hub.auth.totp import code_at
from hub.demo.accounts import DEMO_TOTP_SECRET
from kiosk.ui_auth import HEADER
from tests.kiosk.process import REPO
from tests.polling import until
from tests.terminal import drain_until_exit, read_until, spawn_in_terminal

START_S = 90.0  # a hub and three cabins start in ~15 s here; allow for a loaded machine
READINGS_S = 45.0  # the simulated instruments give a first reading within a few seconds
WAITING_S = 60.0  # the simulated visitors are booked, pushed and checked in within ~10 s
STOP_S = 30.0  # SIGTERM → exit: ~3 s here (three cabins, 5 s bound each, then the hub)


class Demo:
    """The demo's output, read as it comes (a pipe nobody reads would block the demo)."""

    def __init__(self, proc: asyncio.subprocess.Process, state_dir: Path | None) -> None:
        self.proc = proc
        self.state_dir = state_dir
        self.lines: list[str] = []
        self._fresh: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while raw := await self.proc.stdout.readline():
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            self._fresh.put_nowait(line)
        self._fresh.put_nowait(None)

    async def line_starting(self, prefix: str) -> str:
        async with asyncio.timeout(START_S):
            while (line := await self._fresh.get()) is not None:
                if line.startswith(prefix):
                    return line[len(prefix) :].strip()
        raise AssertionError(f"demo exited before '{prefix}': {self.lines}")

    async def closed(self) -> None:
        """Its output read to the end."""
        await self._reader

    async def stop(self) -> None:
        """SIGTERM, then its exit within STOP_S; past that, every process's stacks (the
        demo's and its cabins', SIGUSR1: kiosk/cli.py) and the cabins' logs in the error."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_S):
                await self.proc.wait()
                await self._reader
        except TimeoutError:
            raise AssertionError(await self._stuck_report()) from None

    async def _stuck_report(self) -> str:
        stuck = [self.proc.pid, *cabin_daemons(self.proc.pid)] if running(self.proc.pid) else []
        for pid in stuck:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)
        await asyncio.sleep(2.0)
        logs = sorted(self.state_dir.glob("*/daemon.log")) if self.state_dir else []
        tails = {str(p): p.read_text(errors="replace")[-6000:] for p in logs}
        for pid in stuck:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await self.proc.wait()
        self._reader.cancel()
        output = "\n".join(self.lines[-200:])
        return f"demo not stopped {STOP_S:.0f} s after SIGTERM (pids {stuck}):\n{output}\n{tails}"

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
    state_dir = Path(args[args.index("--state-dir") + 1]) if "--state-dir" in args else None
    demo = Demo(proc, state_dir)
    try:
        yield demo
    finally:
        await demo.stop()
    assert proc.returncode == 0, demo.lines


def readings(status: dict[str, Any]) -> dict[str, Any]:
    return {i["name"]: i["last"] for i in status["instruments"] if i.get("last")}


async def test_demo_prints_its_links_and_serves_a_live_fleet(tmp_path: Path) -> None:
    async with (
        demo_process("--simulated-patient", "--state-dir", str(tmp_path)) as demo,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        hub = await demo.line_starting("Hub: ")
        console = await demo.line_starting("Doctor console: ")
        coordinator = await demo.line_starting("Coordinator screen: ")
        fleet = await demo.line_starting("Fleet dashboard: ")
        logins = await demo.line_starting("Logins at ")
        status_url = await demo.line_starting("Status: ")
        code = (await demo.line_starting("Appointment code: ")).split()[0]
        await demo.line_starting("Simulated patient: checked in")
        assert hub.startswith("http://127.0.0.1:") and console.startswith(f"{hub}/demo-login?")
        assert "demo / demo-doctor-pass" in logins and len(code) == 6 and code.isdigit()

        # The simulated instruments of the Nangis cabin: each, asked as the doctor or the
        # touchscreen asks, gives coded readings (the check-in wiped the ones before).
        base = status_url.removesuffix("/api/status")
        token = (tmp_path / "nangis-01" / "ui-token").read_text().strip()
        for inst in (await demo.status(http, status_url))["instruments"]:
            async with http.post(
                f"{base}/api/instruments/{inst['name']}/measure", headers={HEADER: token}
            ) as resp:
                assert resp.status == 202, inst["name"]

        async def all_read() -> dict[str, Any] | None:
            status = await demo.status(http, status_url)
            got = readings(status)
            return status if len(got) == len(status["instruments"]) == 5 else None

        status: dict[str, Any] | None = await until(
            all_read, READINGS_S, "readings from the simulated instruments"
        )
        assert status is not None
        assert status["state"] == "waiting" and status["locked"] is True
        assert status["hub"]["state"] == "online"
        blood_pressure = readings(status)["tensiometre"]["observations"]
        assert {o["code"] for o in blood_pressure} >= {"8480-6", "8462-4"}

        # Each printed link logs its role in, to its own page; a wrong token does not.
        wrong = console.split("token=")[0] + "token=not-the-token&role=doctor"
        async with http.get(wrong, allow_redirects=False) as resp:
            assert resp.status == 403
        for link, page in ((coordinator, "/booking"), (fleet, "/fleet"), (console, "/doctor")):
            async with http.get(link, allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == page, link
                cookie = resp.cookies["kiosk_hub"]
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(f"{hub}/doctor") as resp:
            assert resp.status == 200
            assert "<title>Console médecin</title>" in await resp.text()
        # The waiting room: Hélène at Nangis and the simulated patients of the others.
        async with http.ws_connect(f"{hub}/doctor/ws", headers={"Origin": hub}) as ws:

            async def three_waiting() -> bool:
                msg = await ws.receive_json(timeout=30)
                if msg["type"] == "queue":
                    waiting.update({e["cabin_id"]: e for e in msg["entries"]})
                elif msg["type"] == "queue_entry":
                    waiting[msg["entry"]["cabin_id"]] = msg["entry"]
                return len(waiting) == 3

            waiting: dict[str, Any] = {}
            await until(three_waiting, WAITING_S, "three patients in the waiting room")
        assert waiting["nangis-01"]["given_name"] == "Hélène"
        assert {e["site_code"] for e in waiting.values()} == {"NAN231", "CHE132", "MSL123"}

    # The printed password and the authenticator's code log in the normal way too.
    jar = aiohttp.CookieJar(unsafe=True)  # the hub is at an IP address
    async with demo_process() as demo, aiohttp.ClientSession(cookie_jar=jar) as http:
        hub = await demo.line_starting("Hub: ")
        origin = {"Origin": hub}
        body = {"username": "demo", "password": "demo-doctor-pass"}
        async with http.post(f"{hub}/login/password", json=body, headers=origin) as resp:
            assert resp.status == 200 and (await resp.json())["next"] == "code"
        totp = {"code": code_at(DEMO_TOTP_SECRET, datetime.now(UTC))}
        async with http.post(f"{hub}/login/code", json=totp, headers=origin) as resp:
            assert resp.status == 200 and (await resp.json())["next"] == "/doctor"


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


def cabin_daemons(demo_pid: int) -> set[int]:
    """The demo's child processes that run `kiosk run`."""
    found: set[int] = set()
    for task in Path(f"/proc/{demo_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"run" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0"):
                found.add(int(child))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for whoever adopted it to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_no_cabin_outlives_a_killed_demo() -> None:
    """SIGKILL of the demo (no goodbye): its three cabin daemons stop by themselves."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk.cli", "demo", "--headless", "--port", "0",
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    demo = Demo(proc, None)
    try:
        await demo.line_starting("Appointment code: ")
        cabins = cabin_daemons(proc.pid)
        assert len(cabins) == 3, demo.lines
    finally:
        proc.kill()
        await proc.wait()
        async with asyncio.timeout(STOP_S):
            await demo.closed()

    def all_gone() -> bool:
        return not any(running(pid) for pid in cabins)

    await until(all_gone, STOP_S, "the cabins gone with their demo")


def test_demo_with_its_touchscreen_in_a_terminal_and_ctrl_q_stops_it() -> None:
    """`kiosk demo` as `make demo` runs it: the links printed, then the touchscreen of the
    Nangis cabin in the same terminal (welcome screen, the console link and the
    appointment code on its bottom line); Ctrl-Q stops the UI, the cabins and the hub,
    exit status 0."""
    demo, master = spawn_in_terminal([sys.executable, "-m", "kiosk.cli", "demo", "--port", "0"])
    try:
        read_until(
            master,
            "Doctor console: http://127.0.0.1:",
            "Status: http://127.0.0.1:",
            "Commencer",
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
