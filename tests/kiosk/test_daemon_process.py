"""The test helper that runs real daemon processes leaves nothing behind when a daemon
fails to start: a process left running (and its Popen collected later, inside some other
test) made an unrelated test fail with "ResourceWarning: subprocess N is still running"."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from tests.kiosk import process

from .conftest import WriteConfig


def _processes_using(config: Path) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(config).encode() in cmdline.split(b"\0"):
            found.append(int(pid))
    return found


def test_a_daemon_that_exits_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    config = tmp_path / "cabin.toml"
    config.write_text("[site]\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"(?s)exited with 2: .*site\.cabin_id"):
        process.DaemonProcess(config, tmp_path / "state", driven=False)
    gc.collect()  # a Popen or file left open would warn here (filterwarnings = error)


def test_a_daemon_too_slow_to_start_is_killed(
    write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config()
    monkeypatch.setattr(process, "START_TIMEOUT_S", 0.0)
    with pytest.raises(TimeoutError):
        process.DaemonProcess(config, tmp_path / "state", driven=False)
    assert _processes_using(config) == []
    gc.collect()
