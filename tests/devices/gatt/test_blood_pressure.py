"""Blood Pressure Measurement 0x2A35 / Intermediate Cuff Pressure 0x2A36."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.blood_pressure import (
    QUIRK_PULSE_BIG_ENDIAN,
    QUIRK_USER_ID_WITHOUT_FLAG,
    BloodPressureFrame,
)
from devices.ieee11073 import Special
from devices.measurement import DecodeError

from .strategies import optional_timestamps, sfloats, user_ids

# flags 0x1E: time stamp, pulse rate, user id, measurement status; mmHg
FULL_BP = bytes.fromhex("1e 7800 5000 5d00 e807050108 1e00 4800 01 0400")


def test_full_frame_from_the_spec_layout() -> None:
    measurement = gatt.decode_measurement(0x2A35, FULL_BP)
    assert measurement.kind == "blood_pressure"
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("8480-6", Decimal(120), "mm[Hg]"),
        ("8462-4", Decimal(80), "mm[Hg]"),
        ("8478-0", Decimal(93), "mm[Hg]"),
        ("8867-4", Decimal(72), "/min"),
    ]
    assert measurement.timestamp == datetime(2024, 5, 1, 8, 30, 0)
    assert measurement.status == ("irregular_pulse",)
    assert not measurement.intermediate
    frame = gatt.decode_frame(0x2A35, FULL_BP)
    assert isinstance(frame, BloodPressureFrame)
    assert frame.user_id == 1
    assert frame.to_bytes() == FULL_BP


def test_minimal_frame_and_json() -> None:
    measurement = gatt.decode_measurement(0x2A35, bytes.fromhex("00 7800 5000 5d00"))
    assert measurement.timestamp is None
    assert measurement.status == ()
    assert len(measurement.observations) == 3
    assert measurement.to_json()["observations"][0]["value"] == 120


def test_kpa_keeps_its_unit_exactly() -> None:
    measurement = gatt.decode_measurement(0x2A35, bytes.fromhex("01 a0f0 6bf0 7cf0"))
    assert [(o.value, o.unit) for o in measurement.observations] == [
        (Decimal("16.0"), "kPa"),
        (Decimal("10.7"), "kPa"),
        (Decimal("12.4"), "kPa"),
    ]


def test_intermediate_cuff_pressure() -> None:
    measurement = gatt.decode_measurement(0x2A36, bytes.fromhex("00 9600 ff07 ff07"))
    assert measurement.kind == "cuff_pressure"
    assert measurement.intermediate
    assert [(o.display, o.value) for o in measurement.observations] == [
        ("Cuff pressure (intermediate)", Decimal(150))
    ]


def test_nan_mean_arterial_pressure_has_no_value() -> None:
    measurement = gatt.decode_measurement(0x2A35, bytes.fromhex("00 7800 5000 ff07"))
    assert measurement.observations[2].value is None
    assert measurement.to_json()["observations"][2]["value"] is None


@pytest.mark.parametrize(
    ("status", "names"),
    [
        (0x0001, ("body_movement",)),
        (0x0002, ("cuff_loose",)),
        (0x0004, ("irregular_pulse",)),
        (0x0008, ("pulse_rate_above_range",)),
        (0x0010, ("pulse_rate_below_range",)),
        (0x0020, ("improper_position",)),
        (0xFFC0, ()),  # reserved bits are ignored
        (0x0027, ("body_movement", "cuff_loose", "irregular_pulse", "improper_position")),
    ],
)
def test_measurement_status_bits(status: int, names: tuple[str, ...]) -> None:
    data = bytes.fromhex("10 7800 5000 5d00") + status.to_bytes(2, "little")
    measurement = gatt.decode_measurement(0x2A35, data)
    assert measurement.status == names


def test_reserved_pulse_range_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="pulse rate range value 3 is reserved"):
        gatt.decode_measurement(0x2A35, bytes.fromhex("10 7800 5000 5d00 1800"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "flags needs 1 bytes, 0 left"),
        ("00 7800 5000", "mean arterial pressure needs 2 bytes, 0 left"),
        ("02 7800 5000 5d00 e807", "time stamp needs 7 bytes, 2 left"),
        ("04 7800 5000 5d00", "pulse rate needs 2 bytes, 0 left"),
        ("08 7800 5000 5d00", "user id needs 1 bytes, 0 left"),
        ("10 7800 5000 5d00 01", "measurement status needs 2 bytes, 1 left"),
    ],
)
def test_flag_announcing_a_missing_field(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode_measurement(0x2A35, bytes.fromhex(data))


def test_trailing_bytes_are_ignored() -> None:
    measurement = gatt.decode_measurement(0x2A35, FULL_BP + b"\x99\x98")
    assert measurement == gatt.decode_measurement(0x2A35, FULL_BP)


def test_quirk_pulse_big_endian() -> None:
    data = bytes.fromhex("04 7800 5000 5d00 0048")
    plain = gatt.decode_frame(0x2A35, data)
    assert isinstance(plain, BloodPressureFrame)
    assert plain.pulse_rate is Special.NRES  # 0x4800 read little-endian: garbage
    quirky = gatt.decode_frame(0x2A35, data, frozenset({QUIRK_PULSE_BIG_ENDIAN}))
    assert isinstance(quirky, BloodPressureFrame)
    assert quirky.pulse_rate == Decimal(72)
    assert quirky.to_bytes(frozenset({QUIRK_PULSE_BIG_ENDIAN})) == data


def test_quirk_user_id_without_flag() -> None:
    data = bytes.fromhex("14 7800 5000 5d00 4800 02 0100")  # no user-id flag, user 2
    plain = gatt.decode_frame(0x2A35, data)
    assert isinstance(plain, BloodPressureFrame)
    assert plain.status == frozenset({"cuff_loose"})  # status read one byte early: wrong
    quirks = frozenset({QUIRK_USER_ID_WITHOUT_FLAG})
    quirky = gatt.decode_frame(0x2A35, data, quirks)
    assert isinstance(quirky, BloodPressureFrame)
    assert quirky.user_id == 2
    assert quirky.status == frozenset({"body_movement"})
    assert quirky.to_bytes(quirks) == data
    with pytest.raises(DecodeError, match="user id needs 1 bytes"):
        gatt.decode_measurement(0x2A35, bytes.fromhex("04 7800 5000 5d00 4800"), quirks)


def test_unknown_user_255_is_none() -> None:
    frame = gatt.decode_frame(0x2A35, bytes.fromhex("08 7800 5000 5d00 ff"))
    assert isinstance(frame, BloodPressureFrame)
    assert frame.user_id is None


def test_encoder_refuses_contradictory_status() -> None:
    frame = BloodPressureFrame(
        Decimal(1), status=frozenset({"pulse_rate_above_range", "pulse_rate_below_range"})
    )
    with pytest.raises(ValueError, match="both above and below"):
        frame.to_bytes()
    with pytest.raises(ValueError, match="unknown flag"):
        BloodPressureFrame(Decimal(1), status=frozenset({"cuff_tight"})).to_bytes()


statuses = st.none() | st.frozensets(
    st.sampled_from(["body_movement", "cuff_loose", "irregular_pulse", "improper_position"])
).flatmap(
    lambda s: st.sampled_from([s, s | {"pulse_rate_above_range"}, s | {"pulse_rate_below_range"}])
)
bp_frames = st.builds(
    BloodPressureFrame,
    systolic=sfloats,
    diastolic=sfloats,
    mean_arterial=sfloats,
    kpa=st.booleans(),
    timestamp=optional_timestamps,
    pulse_rate=st.none() | sfloats,
    user_id=user_ids,
    status=statuses,
    intermediate=st.booleans(),
)
all_quirk_sets = st.sampled_from(
    [frozenset(), *({q} for q in gatt.KNOWN_QUIRKS), gatt.KNOWN_QUIRKS]
).map(frozenset)


@given(bp_frames, all_quirk_sets)
def test_round_trip_every_flag_and_quirk(frame: BloodPressureFrame, quirks: frozenset[str]) -> None:
    data = frame.to_bytes(quirks)
    decoded = BloodPressureFrame.from_bytes(data, quirks, frame.intermediate)
    assert decoded == frame
    uuid = 0x2A36 if frame.intermediate else 0x2A35
    assert gatt.decode_measurement(uuid, data, quirks) == frame.to_measurement()
