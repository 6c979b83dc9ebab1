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
CABIN_TOML = """
[site]
cabin_id = "cli-test"
name = "Cabine"
address = "1 rue de la Paix, 77000 Melun"

[storage]
state_dir = "{state}"

[[instruments]]
name = "balance"
kind = "body_composition"
transport = "serial"
protocol = "{protocol}"
port = "{port}"
"""


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


CAPTURES = REPO / "tests" / "devices" / "captures"


def test_replay_prints_what_the_cabin_would_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "replay", str(CAPTURES / "nonin-df2.jsonl"), "--speed", "0"]) == 0
    out = capsys.readouterr()
    [line] = [json.loads(x) for x in out.out.splitlines()]
    assert line["instrument"] == "oxymetre" and not line["intermediate"]
    assert [(o["code"], o["value"]) for o in line["observations"]] == [
        ("59408-5", 96),
        ("8867-4", 74),
    ]
    assert "1 measurement(s)" in out.err and "skipped bytes 20" in out.err


def test_replay_refuses_a_file_that_is_not_a_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n", encoding="utf-8")
    assert main(["devices", "replay", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 1: not JSON" in err
    assert main(["devices", "replay", str(CAPTURES / "nonin-df2.jsonl"), "--speed", "-1"]) == 2


async def test_record_then_replay_in_processes(tmp_path: Path) -> None:
    link = tmp_path / "usb-Tanita-if00"
    config = tmp_path / "cabin.toml"
    config.write_text(
        CABIN_TOML.format(state=tmp_path / "state", protocol="tanita-kv", port=link),
        encoding="utf-8",
    )
    capture = tmp_path / "field.jsonl"
    cli = [sys.executable, "-m", "kiosk.cli", "devices"]
    sim = await asyncio.create_subprocess_exec(
        *cli, "simulate", "tanita-kv", "--link", str(link), cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        async with asyncio.timeout(WAIT_S):
            await sim.stdout.readline()
        record = await asyncio.create_subprocess_exec(
            *cli, "record", "balance", "--config", str(config), "--out", str(capture),
            "--count", "1", cwd=REPO, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(WAIT_S):
            recorded, err = await record.communicate()
        assert record.returncode == 0, err.decode()
        assert "never a patient's" in err.decode() and "event(s) written" in err.decode()
    finally:
        sim.terminate()
        await sim.wait()
    replayed = await asyncio.create_subprocess_exec(
        *cli, "replay", str(capture), "--speed", "0", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(WAIT_S):
        out, err = await replayed.communicate()
    assert replayed.returncode == 0, err.decode()
    assert out.decode().splitlines() == recorded.decode().splitlines()
    assert json.loads(out.decode().splitlines()[0])["observations"][0]["code"] == "29463-7"
    again = await asyncio.create_subprocess_exec(
        *cli, "record", "balance", "--config", str(config), "--out", str(capture), cwd=REPO,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(WAIT_S):
        _, err = await again.communicate()
    assert again.returncode == 2 and "exists" in err.decode()
