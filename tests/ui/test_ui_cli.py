"""`kiosk ui` refuses clearly when the daemon is not there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.ui.cli import wait_for_daemon
from tests.kiosk.conftest import BASE_TOML


def test_ui_without_a_daemon_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "cabin.toml"
    config.write_text(BASE_TOML.format(always_open="true", weekly="", state_dir=tmp_path))
    code = main(["ui", "--config", str(config), "--url", "http://127.0.0.1:9"])
    assert code == 1
    assert "ui-token" in capsys.readouterr().err


def test_wait_for_daemon(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime.json"
    assert wait_for_daemon(runtime, within_s=0) is None
    runtime.write_text("{not json")
    assert wait_for_daemon(runtime, within_s=0) is None
    runtime.write_text(json.dumps({"url": "http://127.0.0.1:8740", "pid": 1}))
    assert wait_for_daemon(runtime, within_s=0) == "http://127.0.0.1:8740"


def test_ui_without_config_needs_a_state_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.toml"
    assert main(["ui", "--config", str(missing)]) == 2
    assert "--state-dir" in capsys.readouterr().err
    code = main(["ui", "--config", str(missing), "--state-dir", str(tmp_path), "--url", "x"])
    assert code == 1
    assert "ui-token" in capsys.readouterr().err
