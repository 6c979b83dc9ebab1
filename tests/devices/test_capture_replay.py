"""Captures (devices/capture.py) and their replay through the cabin's own links.

tests/devices/captures/ holds one capture per supported instrument, as a technician's
`kiosk devices record` would write it, made of the public vectors cited in
tests/devices/serial/test_vectors.py and tests/devices/gatt/test_cited_vectors.py (each
file's header names its source). Replaying one goes through the real SerialLink on a
pseudo-terminal, or the real BleLink with a replayed BleakClient."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from devices.capture import (
    Capture,
    CaptureError,
    CaptureEvent,
    CaptureHeader,
    CaptureWriter,
    read_capture,
    write_capture,
)
from devices.measurement import Measurement
from devices.replay import replay
from devices.serialproto import PROTOCOLS

CAPTURES = Path(__file__).parent / "captures"
SPO2, PULSE = "59408-5", "8867-4"


def values(m: Measurement) -> dict[str, Decimal | None]:
    return {o.code: o.value for o in m.observations}


def finals(ms: list[Measurement]) -> list[dict[str, Decimal | None]]:
    return [values(m) for m in ms if not m.intermediate]


# What the cabin records from each capture (the values the cited sources give).
EXPECTED: dict[str, list[dict[str, Decimal | None]]] = {
    "contec-cms50d": [{SPO2: 97, PULSE: 65}],  # six equal packets, reported once
    "contec-legacy": [{SPO2: 0, PULSE: 200}, {SPO2: 97, PULSE: 0}, {SPO2: 0, PULSE: 0}],
    "nonin-df8": [{SPO2: 97, PULSE: 72}, {SPO2: 95, PULSE: 300}],  # 3rd: no values
    "nonin-df2": [{SPO2: 96, PULSE: 74}],
    "nonin-df13": [{SPO2: 97, PULSE: 72}],
    "tanita-tbf310": [
        {"29463-7": Decimal("110.6"), "41982-0": Decimal("28.4"), "8302-2": 170,
         "39156-5": Decimal("32.3")},
    ],
    "tanita-bc418": [
        {"29463-7": Decimal("60.5"), "41982-0": Decimal("25.4"), "8302-2": 165,
         "39156-5": Decimal("22.2")},
    ],
    "tanita-kv": [
        {"29463-7": Decimal("89.2"), "41982-0": Decimal("18.8"), "8302-2": Decimal("191.0"),
         "39156-5": Decimal("24.5")},
        {"29463-7": Decimal("67.6"), "41982-0": Decimal("18.3"), "8302-2": Decimal("175.5"),
         "39156-5": Decimal("21.9")},
    ],
    "ble-blood-pressure": [{"8480-6": 138, "8462-4": 88, "8478-0": 120, PULSE: 60}],
    "ble-thermometer": [{"8310-5": Decimal("37.60")}],
    "ble-pulse-oximeter": [{SPO2: 98, PULSE: 72}],
    "ble-scale": [{"29463-7": Decimal("72.5")}],
    "ble-body-composition": [
        {"41982-0": Decimal("1333.0"), "29463-7": Decimal("241.41"), "8302-2": Decimal("5265.1")}
    ],
    "ble-heart-rate": [{PULSE: 85}, {PULSE: 257}],
    "ble-glucometer": [{"2339-0": Decimal(3_000_000)}],
}  # fmt: skip


def test_every_supported_instrument_has_a_capture() -> None:
    from devices.ble.profiles import PROFILES

    kinds = {f"ble-{kind.value.replace('_', '-')}" for kind in PROFILES}
    assert {p.stem for p in CAPTURES.glob("*.jsonl")} == set(PROTOCOLS) | kinds == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_a_capture_replays_to_what_its_source_gives(name: str) -> None:
    capture = read_capture(CAPTURES / f"{name}.jsonl")
    assert capture.header.note  # where the bytes come from
    result = await replay(capture, speed=0)
    assert finals(result.measurements) == EXPECTED[name]
    if capture.header.transport == "serial":
        assert result.counters["undecodable"] == result.counters["bad_checksums"] == 0


async def test_replayed_details() -> None:
    bp = await replay(read_capture(CAPTURES / "ble-blood-pressure.jsonl"), speed=0)
    assert [m.kind for m in bp.measurements] == ["cuff_pressure", "blood_pressure"]
    assert bp.measurements[0].intermediate and values(bp.measurements[0]) == {
        "8480-6": Decimal("21.5")
    }
    spot = await replay(read_capture(CAPTURES / "nonin-df13.jsonl"), speed=0)
    assert spot.measurements[0].timestamp == datetime(2026, 11, 23, 10, 42, 5)
    df2 = await replay(read_capture(CAPTURES / "nonin-df2.jsonl"), speed=0)
    assert df2.counters["skipped_bytes"] == 20  # joined mid-packet: 4 frames dropped
    df8 = await replay(read_capture(CAPTURES / "nonin-df8.jsonl"), speed=0)
    assert df8.measurements[-1].status == ("low_battery", "out_of_track", "sensor_alarm")
    assert [state for state, _ in df8.states][:1] == ["ready"]  # the recorded ACK came


async def test_stored_spot_checks_are_not_reported(tmp_path: Path) -> None:
    # A format 13 packet with MEM set (taken while no host was connected).
    data = bytes.fromhex("20 26 11 23 10 42 05 00 02 10 00 48 00 61")
    packet = bytes.fromhex("00 02 00 0D 00 0E") + data + bytes([sum(data) & 0xFF, 3])
    original = read_capture(CAPTURES / "nonin-df13.jsonl")
    events = (*original.events[:2], CaptureEvent(1.0, "in", packet), original.events[2])
    path = tmp_path / "stored.jsonl"
    write_capture(path, Capture(original.header, events))
    result = await replay(read_capture(path), speed=0)
    assert finals(result.measurements) == [{SPO2: 97, PULSE: 72}]
    assert result.counters["stored_not_reported"] == 1


async def test_replay_keeps_the_recorded_timing() -> None:
    import time

    started = time.monotonic()
    await replay(read_capture(CAPTURES / "ble-heart-rate.jsonl"), speed=4)
    assert time.monotonic() - started >= 2.0 / 4  # the last notification is at t = 2 s


# -- the file format ---------------------------------------------------------------------


def test_writer_and_reader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    writer = CaptureWriter(path, CaptureHeader("oxy", "pulse_oximeter", "serial", "nonin-df8"))
    writer.record("out", bytes.fromhex("027002020803"))
    writer.record("in", b"\x06\x84\x48\x61\x20")
    writer.close()
    capture = read_capture(path)
    assert capture.header.protocol == "nonin-df8" and capture.header.recorded
    assert [(e.op, e.data) for e in capture.events] == [
        ("out", bytes.fromhex("027002020803")), ("in", b"\x06\x84\x48\x61\x20")
    ]  # fmt: skip
    assert capture.events[0].t <= capture.events[1].t
    with pytest.raises(FileExistsError):
        CaptureWriter(path, capture.header)  # never overwrites a capture


def test_a_ble_writer_waits_for_the_characteristics(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    writer = CaptureWriter(path, CaptureHeader("bp", "blood_pressure", "ble"))
    writer.connected(
        ["00002a35-0000-1000-8000-00805f9b34fb", "00002a19-0000-1000-8000-00805f9b34fb"]
    )
    writer.record("read", b"\x57", "2a19")
    writer.close()
    capture = read_capture(path)
    assert capture.header.characteristics == ("2a35", "2a19")
    assert capture.events[0].char == "2a19"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty file"),
        (["not json"], "line 1: not JSON"),
        (['{"capture": 2}'], "version 1 header expected"),
        (['{"capture": 1, "instrument": "x", "kind": "scale", "transport": "usb"}'], "transport"),
        (['{"capture": 1, "instrument": "x", "kind": "scale", "transport": "ble"}'],
         "lists the instrument's characteristics"),
        (['{"capture": 1, "instrument": "x", "kind": "pulse_oximeter", "transport": "serial",'
          ' "protocol": "nonin-df8"}', '{"t": 0, "op": "notify", "hex": "00"}'],
         "line 2: op must be one of"),
        (['{"capture": 1, "instrument": "x", "kind": "pulse_oximeter", "transport": "serial",'
          ' "protocol": "nonin-df8"}', '{"t": -1, "op": "in", "hex": "00"}'], "'t' must be"),
        (['{"capture": 1, "instrument": "x", "kind": "pulse_oximeter", "transport": "serial",'
          ' "protocol": "nonin-df8"}', '{"t": 0, "op": "in", "hex": "zz"}'], "not hexadecimal"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_capture_is_refused(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CaptureError, match=message):
        read_capture(path)


async def test_a_capture_of_an_unknown_protocol_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    header = CaptureHeader("x", "pulse_oximeter", "serial", "no-such-protocol")
    path.write_text(json.dumps(header.to_json()) + "\n", encoding="utf-8")
    with pytest.raises(CaptureError, match="unknown serial protocol"):
        await replay(read_capture(path), speed=0)
