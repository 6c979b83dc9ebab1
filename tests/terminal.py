"""A program in a pseudo-terminal the size of the cabin's touchscreen terminal (120x45),
and what it shows there, escape sequences removed."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time

from tests.kiosk.process import REPO

COLUMNS, LINES = 120, 45
SCREEN_S = 30.0  # a Textual screen shows within a second or two; allow for a loaded machine
ANSI = re.compile(rb"\x1b\[[0-9;?<>]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")


def spawn_in_terminal(args: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """(the process, the terminal's master side to read from and write to)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(COLUMNS),
            "LINES": str(LINES),
        },
        start_new_session=True,
    )
    os.close(slave)
    return proc, master


def shown(raw: bytes) -> str:
    return ANSI.sub(b"", raw).decode("utf-8", "replace")


def read_until(fd: int, *needles: str, within_s: float = SCREEN_S) -> str:
    """Everything the terminal showed, once every one of ``needles`` is in it."""
    seen = b""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if all(needle in shown(seen) for needle in needles):
                return shown(seen)
    missing = [n for n in needles if n not in shown(seen)]
    raise AssertionError(f"{missing} not shown; terminal: {ANSI.sub(b'', seen)[-600:]!r}")


def drain_until_exit(proc: subprocess.Popen[bytes], fd: int, within_s: float) -> int:
    """``proc``'s exit status, reading and dropping its terminal output until it exits (a
    pty nobody reads fills and blocks the writer)."""
    deadline = time.monotonic() + within_s
    tail = b""
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still running {within_s:g} s later; terminal: {ANSI.sub(b'', tail)[-600:]!r}"
            )
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                tail = (tail + os.read(fd, 65536))[-8192:]
            except OSError:  # the terminal closed (the process is exiting)
                proc.wait(timeout=within_s)
    return proc.returncode
