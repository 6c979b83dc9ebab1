"""`kiosk ui` as on the cabin: its own process, in a terminal (a pseudo-terminal here),
next to a real daemon process; it follows the daemon's state."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.kiosk.conftest import BASE_TOML, TEST_TOKEN_DIGEST
from tests.kiosk.process import REPO, DaemonProcess

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
# Textual's first frame comes within a second or two; allow for a loaded machine.
SCREEN_TIMEOUT_S = 30.0


def _read_until(fd: int, needle: str, within_s: float = SCREEN_TIMEOUT_S) -> str:
    seen = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            text = ANSI.sub(b"", seen).decode("utf-8", "replace")
            if needle in text:
                return text
    raise AssertionError(f"{needle!r} not shown; screen: {ANSI.sub(b'', seen)[-500:]!r}")


def test_kiosk_ui_process_follows_the_daemon(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = tmp_path / "cabin.toml"
    config.write_text(
        BASE_TOML.format(
            always_open="true", weekly="", token_digest=TEST_TOKEN_DIGEST, state_dir=state
        )
    )
    daemon = DaemonProcess(config, state)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 120, 0, 0))
    ui = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "ui", "--config", str(config)],
        cwd=REPO,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "45"},
        start_new_session=True,
    )
    os.close(slave)
    try:
        _read_until(master, "Commencer")
        status, _ = daemon.post("/test/transition", {"to": "check_in"})
        assert status == 200
        _read_until(master, "code de votre rendez-vous")
    finally:
        ui.send_signal(signal.SIGTERM)
        try:
            ui.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ui.kill()
            ui.wait()
        os.close(master)
        daemon.terminate()
