"""The package API: UUIDs, service tables, battery level, dispatch, random bytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.measurement import DecodeError


@pytest.mark.parametrize(
    "text",
    ["2a35", "2A35", "0x2A35", "0X2a35", " 2a35 ", "00002a35-0000-1000-8000-00805f9b34fb",
     "00002A35-0000-1000-8000-00805F9B34FB"],
)  # fmt: skip
def test_parse_uuid_forms(text: str) -> None:
    assert gatt.parse_uuid(text) == 0x2A35


@pytest.mark.parametrize(
    "text",
    ["", "2a3", "2a355", "0x", "zz35", "12345678-0000-1000-8000-00805f9b34fb",
     "00002a35-0000-1000-8000-00805f9b34fc", "0x0x2a35", "2a35\n2a36"],
)  # fmt: skip
def test_parse_uuid_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a Bluetooth 16-bit UUID"):
        gatt.parse_uuid(text)


def test_uuid128() -> None:
    assert gatt.uuid128(0x1810) == "00001810-0000-1000-8000-00805f9b34fb"
    assert gatt.parse_uuid(gatt.uuid128(0x2A9C)) == 0x2A9C
    with pytest.raises(ValueError, match="not a 16-bit UUID"):
        gatt.uuid128(0x10000)


def test_tables_are_consistent() -> None:
    for service, characteristics in gatt.SERVICE_CHARACTERISTICS.items():
        assert service in gatt.SERVICES
        for characteristic in characteristics:
            assert characteristic in gatt.CHARACTERISTICS
    assert set(gatt.supported()) <= set(gatt.CHARACTERISTICS)


@pytest.mark.parametrize("level", [0, 1, 57, 100])
def test_battery_level(level: int) -> None:
    assert gatt.decode(0x2A19, bytes([level])) == level
    assert gatt.decode_battery_level(gatt.encode_battery_level(level)) == level


@pytest.mark.parametrize(("data", "message"), [(b"", "needs 1 bytes"), (b"\x65", "above 100")])
def test_bad_battery_level(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A19, data)


def test_battery_encoder_refuses_out_of_range() -> None:
    with pytest.raises(ValueError, match="0-100"):
        gatt.encode_battery_level(101)


def test_unsupported_characteristic() -> None:
    with pytest.raises(ValueError, match="0x2A00"):
        gatt.decode(0x2A00, b"\x00")


def test_check_quirks() -> None:
    assert gatt.check_quirks(["bp_pulse_big_endian"]) == frozenset({"bp_pulse_big_endian"})
    with pytest.raises(ValueError, match="unknown quirks \\['bp_typo'\\]"):
        gatt.check_quirks({"bp_typo"})


@pytest.mark.parametrize("uuid", gatt.supported(), ids=lambda u: f"0x{u:04X}")
@given(data=st.binary(max_size=48), quirks=st.sampled_from([frozenset(), gatt.KNOWN_QUIRKS]))
def test_random_bytes_only_raise_decode_error(
    uuid: int, data: bytes, quirks: frozenset[str]
) -> None:
    try:
        decoded = gatt.decode(uuid, data, quirks)
    except DecodeError:
        return
    json.dumps(
        gatt.to_json(decoded)
    )  # what the technician CLI prints  # what the API and the CLI print


@pytest.mark.parametrize(
    ("uuid", "data", "expected"),
    [
        (
            0x2A19,
            "57",
            {"kind": "battery", "timestamp": None, "status": [],
             "observations": [{"code": "battery", "display": "Battery level", "value": 87,
                               "unit": "%"}]},
        ),
        (0x2A52, "05000a00", {"kind": "racp_number_of_records", "count": 10}),
        (0x2A52, "06000106",
         {"kind": "racp_response", "request_op": 1, "value": "no_records_found"}),
        (
            0x2A34,
            "03 0700 01 ff07 05",
            {"kind": "glucose_context", "sequence_number": 7, "extended_flags": None,
             "carbohydrate": {"meal": "breakfast", "kilograms": None}, "meal": "bedtime",
             "tester": None, "health": None, "exercise": None, "medication": None,
             "hba1c_percent": None},
        ),
        (
            0x2A35,
            "00 7800 5000 ff07",
            {"kind": "blood_pressure", "timestamp": None, "status": [],
             "observations": [
                 {"code": "8480-6", "display": "Systolic blood pressure", "value": 120,
                  "unit": "mm[Hg]"},
                 {"code": "8462-4", "display": "Diastolic blood pressure", "value": 80,
                  "unit": "mm[Hg]"},
                 {"code": "8478-0", "display": "Mean blood pressure", "value": None,
                  "unit": "mm[Hg]"}]},
        ),
    ],
)  # fmt: skip
def test_to_json(uuid: int, data: str, expected: dict[str, object]) -> None:
    assert gatt.to_json(gatt.decode(uuid, bytes.fromhex(data))) == expected


def test_bytearray_and_memoryview_payloads() -> None:
    data = bytes.fromhex("00 7800 5000 5d00")
    expected = gatt.decode(0x2A35, data)
    assert gatt.decode(0x2A35, bytearray(data)) == expected
    assert gatt.decode_measurement(0x2A35, memoryview(data)) == expected
    assert gatt.decode(0x2A19, bytearray(b"\x50")) == 80
    with pytest.raises(ValueError, match="0x2A19"):
        gatt.decode_measurement(0x2A19, b"\x50")
