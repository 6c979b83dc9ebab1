"""`kiosk ui` as on the cabin: its own process, in a terminal (a pseudo-terminal here),
next to a real daemon process; it follows the daemon's state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.kiosk.conftest import BASE_TOML
from tests.kiosk.process import DaemonProcess
from tests.terminal import read_until, spawn_in_terminal


def test_kiosk_ui_process_follows_the_daemon(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = tmp_path / "cabin.toml"
    config.write_text(BASE_TOML.format(always_open="true", weekly="", state_dir=state))
    daemon = DaemonProcess(config, state)
    ui, master = spawn_in_terminal(
        [sys.executable, "-m", "kiosk.cli", "ui", "--config", str(config)]
    )
    try:
        read_until(master, "Commencer")
        status, _ = daemon.post("/test/transition", {"to": "check_in"})
        assert status == 200
        read_until(master, "code de votre rendez-vous")
    finally:
        ui.send_signal(signal.SIGTERM)
        try:
            ui.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ui.kill()
            ui.wait()
        os.close(master)
        daemon.terminate()
