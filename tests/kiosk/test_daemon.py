"""The daemon process: SIGTERM shutdown, sd_notify READY/WATCHDOG on a real socket,
systemd units verified."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import kiosk.daemon
from hub.shared.sdnotify import Notifier, watchdog_loop
from kiosk.daemon import Daemon
from kiosk.settings import load_settings

from .conftest import WriteConfig
from .process import DaemonProcess

REPO = Path(__file__).resolve().parents[2]


def test_sigterm_stops_cleanly_within_5_seconds(write_config: WriteConfig, tmp_path: Path) -> None:
    daemon = DaemonProcess(write_config(), tmp_path / "state", driven=False)
    assert daemon.get("/healthz")["ok"] is True
    code, elapsed, out = daemon.terminate()
    assert code == 0, out
    assert elapsed < 5.0
    assert '"msg": "stopped"' in out
    assert not (tmp_path / "state" / "runtime.json").exists()


async def test_in_process_start_stop_leaves_no_task(write_config: WriteConfig) -> None:
    daemon = Daemon(load_settings(write_config()))
    ctx = await daemon.start()
    assert ctx.tasks.running >= 2  # opening hours and retention purge
    await daemon.stop()
    assert ctx.tasks.running == 0
    # conftest's no_leaked_tasks fixture also fails this test if anything is left.


async def test_components_stop_though_the_api_hangs(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection slow to close took the whole shutdown bound: the components (the
    printer, the call, the hub link) and the tasks were left running."""
    daemon = Daemon(load_settings(write_config()))
    ctx = await daemon.start()
    runner = daemon._runner
    assert runner is not None and ctx.tasks.running >= 2
    stopped: list[str] = []
    for component in daemon._started:
        real_stop = component.stop

        async def stop(real_stop: Any = real_stop, name: str = component.name) -> None:
            await real_stop()
            stopped.append(name)

        monkeypatch.setattr(component, "stop", stop)
    real_cleanup = web.AppRunner.cleanup

    async def hangs(self: web.AppRunner) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(kiosk.daemon, "API_CLOSE_S", 0.3)
    monkeypatch.setattr(web.AppRunner, "cleanup", hangs)
    try:
        async with asyncio.timeout(6.0):
            await daemon.stop()
        assert sorted(stopped) == sorted(c.name for c in daemon._started)
        assert ctx.tasks.running == 0
    finally:
        await real_cleanup(runner)


def _notify_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    return sock


def test_sd_notify_ready_watchdog_and_stopping(write_config: WriteConfig, tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    with _notify_socket(sock_path) as sock:
        daemon = DaemonProcess(
            write_config(),
            tmp_path / "state",
            driven=False,
            env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "200000"},
        )
        try:
            messages: list[str] = []
            deadline = time.monotonic() + 10
            while messages.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
                messages.append(sock.recv(4096).decode())
            ready = [m for m in messages if m.startswith("READY=1")]
            assert ready, messages
            assert "STATUS=serving http://127.0.0.1:" in ready[0]
            assert messages.count("WATCHDOG=1") >= 3
        finally:
            code, _, out = daemon.terminate()
        assert code == 0, out
        rest: list[str] = []
        sock.settimeout(0.5)
        try:
            while True:
                rest.append(sock.recv(4096).decode())
        except TimeoutError:
            pass
        assert "STOPPING=1" in rest


async def test_watchdog_pings_stop_while_the_loop_is_blocked(tmp_path: Path) -> None:
    sock_path = tmp_path / "wd.sock"
    with _notify_socket(sock_path) as sock:
        sock.setblocking(False)
        task = asyncio.create_task(watchdog_loop(Notifier(str(sock_path)), 0.02))
        try:
            await asyncio.sleep(0.1)
            time.sleep(0.5)  # noqa: ASYNC251 - a blocked event loop, on purpose
            await asyncio.sleep(0.1)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        stamps: list[float] = []
        while True:
            try:
                sock.recv(64)
            except BlockingIOError:
                break
            stamps.append(time.monotonic())
    # The pings were queued on the socket; count them instead of timing them: at 20 ms,
    # 0.2 s of running loop gives ~10 pings, and the 0.5 s block must add none (~25).
    assert 4 <= len(stamps) <= 20


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd not installed")
@pytest.mark.parametrize("unit", sorted(p.name for p in (REPO / "systemd").glob("*.service")))
def test_systemd_unit_verifies(unit: str, tmp_path: Path) -> None:
    # The unit names the cabin's install path; point it at this checkout's executable so
    # verify can check it exists, and change nothing else.
    text = (REPO / "systemd" / unit).read_text()
    text = text.replace("/opt/kiosk/.venv/bin/", str(REPO / ".venv" / "bin") + "/")
    copy = tmp_path / unit
    copy.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_kiosk_service_is_hardened(tmp_path: Path) -> None:
    text = (REPO / "systemd" / "kiosk.service").read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "User=kiosk",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ):
        assert line in text
    copy = tmp_path / "kiosk.service"
    copy.write_text(text.replace("/opt/kiosk/.venv/bin/", str(REPO / ".venv" / "bin") + "/"))
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    exposure = float(result.stdout.split("Overall exposure level for kiosk.service:")[1].split()[0])
    assert exposure <= 2.0, result.stdout[-500:]


def test_kiosk_hub_service_is_hardened(tmp_path: Path) -> None:
    text = (REPO / "systemd" / "kiosk-hub.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "ProtectSystem=strict"):
        assert line in text
    assert "ExecStart=/opt/kiosk/.venv/bin/kiosk hub run --config /etc/kiosk/hub.toml" in text
    copy = tmp_path / "kiosk-hub.service"
    copy.write_text(text.replace("/opt/kiosk/.venv/bin/", str(REPO / ".venv" / "bin") + "/"))
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    marker = "Overall exposure level for kiosk-hub.service:"
    exposure = float(result.stdout.split(marker)[1].split()[0])
    assert exposure <= 1.5, result.stdout[-500:]
