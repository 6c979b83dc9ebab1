"""`kiosk devices ...`: decode, protocols, list, and simulate + read as two real processes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from kiosk.cli import main

REPO = Path(__file__).resolve().parents[3]
WAIT_S = 20.0


def test_decode_a_serial_frame(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "decode", "contec-v7", "01 E0 85 B3 96 C1 E1 FF FF"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "spo2" and doc["timestamp"] is None and doc["status"] == []
    assert [(o["code"], o["value"], o["unit"]) for o in doc["observations"]] == [
        ("59408-5", 97, "%"),
        ("8867-4", 65, "/min"),
    ]


def test_decode_refuses_bad_input_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "decode", "nonin-df8", "84 00 48"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "4 bytes" in out.err
    assert main(["devices", "decode", "nonin-df8", "zz"]) == 2
    assert main(["devices", "decode", "no-such-thing", "00"]) == 2


def test_protocols_and_decode_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "protocols"]) == 0
    out = capsys.readouterr().out
    assert "tanita-tbf310  2400 7E1" in out and "nonin-df2" in out
    assert "tanita-bc418" in out and "not yet checked against a device" in out
    assert main(["devices", "decode", "--list"]) == 0
    assert "contec-v7" in capsys.readouterr().out


async def test_simulate_then_read_in_two_processes(tmp_path: Path) -> None:
    link = tmp_path / "usb-Nonin_Xpod-if00"
    config = tmp_path / "cabin.toml"
    config.write_text(
        f"""
[site]
cabin_id = "cli-test"
name = "Cabine"
address = "1 rue de la Paix, 77000 Melun"

[storage]
state_dir = "{tmp_path / "state"}"

[[instruments]]
name = "oxymetre"
kind = "pulse_oximeter"
transport = "serial"
protocol = "nonin-df8"
port = "{link}"
""",
        encoding="utf-8",
    )
    cli = [sys.executable, "-m", "kiosk.cli", "devices"]
    sim = await asyncio.create_subprocess_exec(
        *cli, "simulate", "nonin-df8", "--link", str(link), cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        async with asyncio.timeout(WAIT_S):
            banner = (await sim.stdout.readline()).decode()
        assert "nonin-df8 (9600 8N1) on /dev/pts/" in banner and link.is_symlink()
        read = await asyncio.create_subprocess_exec(
            *cli, "read", "oxymetre", "--config", str(config), "--count", "2", cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(WAIT_S):
            out, err = await read.communicate()
        assert read.returncode == 0, err.decode()
        lines = [json.loads(line) for line in out.decode().splitlines()]
        assert len(lines) == 2 and all(x["instrument"] == "oxymetre" for x in lines)
        for line in lines:
            spo2 = line["observations"][0]
            assert spo2["code"] == "59408-5" and 94 <= spo2["value"] <= 99
        assert "oxymetre: ready" in err.decode()
    finally:
        sim.terminate()
        await sim.wait()
    assert sim.returncode == 0
    assert not link.is_symlink()  # the simulator removed its symlink (unplugged)
