"""Configuration files: the shipped ones load; broken ones give every error with its path
and line; the environment overrides the file; the schema prints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devices.config import InstrumentKind
from devices.serialproto import protocol
from kiosk.settings import ConfigError, load_settings

from .conftest import WriteConfig

CONFIG = Path(__file__).resolve().parents[2] / "config"
KIOSK = [sys.executable, "-m", "kiosk.cli"]


@pytest.mark.parametrize(
    "name", ["demo.toml", "nangis.toml", "chelles.toml", "moret-sur-loing.toml"]
)
def test_shipped_configs_are_valid(name: str) -> None:
    settings = load_settings(CONFIG / name)
    assert settings.site.cabin_id
    result = subprocess.run(
        [*KIOSK, "config", "check", str(CONFIG / name)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


@pytest.mark.parametrize("name", ["nangis.toml", "chelles.toml", "moret-sur-loing.toml"])
def test_site_configs_list_real_instruments_and_a_protocol(name: str) -> None:
    settings = load_settings(CONFIG / name)
    kinds = {i.kind.value: i for i in settings.instruments}
    assert set(kinds) == {"blood_pressure", "pulse_oximeter", "thermometer", "scale"}
    oximeter = kinds["pulse_oximeter"]
    assert oximeter.transport == "serial" and oximeter.port is not None
    assert oximeter.port.startswith("/dev/serial/by-id/")
    assert protocol(oximeter.protocol or "").kind is InstrumentKind.PULSE_OXIMETER
    for kind in ("blood_pressure", "thermometer", "scale"):
        assert kinds[kind].transport == "ble"
        assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", kinds[kind].address or "")
    assert settings.hygiene.steps  # the default protocol when the file lists none
    assert settings.hygiene.lock.driver == "serial_relay"


BROKEN = """
[site]
cabin_id = "Not An Id!"
name = "Cabine"
address = "x"

[hours]
timezone = "Europe/Nowhere"

[hours.weekly]
monday = ["09:00-12:00", "11:00-13:00"]

[network]
listen_host = "0.0.0.0"
listen_port = 99999

[[instruments]]
name = "tensio"
kind = "blood_pressure"
transport = "ble"

[[instruments]]
name = "oxy"
kind = "pulse_oximeter"
transport = "serial"
"""


def test_every_error_with_its_field_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    problems = {p.path: p for p in info.value.problems}
    lines = BROKEN.splitlines()

    def line_of(text: str, occurrence: int = 1) -> int:
        found = [i for i, line in enumerate(lines, start=1) if line.startswith(text)]
        return found[occurrence - 1]

    assert problems["site.cabin_id"].line == line_of("cabin_id")
    assert problems["hours.timezone"].line == line_of("timezone")
    assert "unknown time zone" in problems["hours.timezone"].message
    assert problems["hours.weekly.monday"].line == line_of("monday")
    assert "overlap" in problems["hours.weekly.monday"].message
    assert problems["network.listen_port"].line == line_of("listen_port")
    assert problems["instruments.1"].line == line_of("[[instruments]]", 2)
    assert "port" in problems["instruments.1"].message


def test_config_check_prints_errors_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = subprocess.run(
        [*KIOSK, "config", "check", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "site.cabin_id" in result.stderr and "line 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[site]\ncabin_id = "a"\nname = \n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems[0].line == 3
    assert "invalid TOML" in info.value.problems[0].message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")


def test_environment_overrides_the_file(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config()
    monkeypatch.setenv("KIOSK_NETWORK__LISTEN_PORT", "8555")
    monkeypatch.setenv("KIOSK_SITE__WALK_IN", "true")
    settings = load_settings(path)
    assert settings.network.listen_port == 8555
    assert settings.site.walk_in is True
    assert settings.site.cabin_id == "test-01"  # the rest comes from the file


def test_the_cabin_listens_on_this_machine_only(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing connects to a cabin: its API is its touchscreen's (the console is at the hub)."""
    monkeypatch.setenv("KIOSK_NETWORK__LISTEN_HOST", "0.0.0.0")
    with pytest.raises(ConfigError, match="this machine only"):
        load_settings(write_config())


def test_the_hub_is_https_off_localhost(write_config: WriteConfig) -> None:
    path = write_config(extra='\n[hub]\nurls = ["http://hub.example.fr"]\n')
    with pytest.raises(ConfigError, match="https://"):
        load_settings(path)
    ok = write_config(extra='\n[hub]\nurls = ["https://hub.example.fr", "http://127.0.0.1:8750"]\n')
    assert load_settings(ok).hub is not None


def test_schema_is_json_with_every_section() -> None:
    result = subprocess.run(
        [*KIOSK, "config", "schema"], capture_output=True, text=True, check=True
    )
    schema = json.loads(result.stdout)
    for section in (
        "site",
        "hours",
        "instruments",
        "printer",
        "hygiene",
        "network",
        "call",
        "storage",
        "retention",
    ):
        assert section in schema["properties"]
