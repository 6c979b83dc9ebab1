"""PLX Spot-check 0x2A5E and PLX Continuous 0x2A5F (Pulse Oximeter service)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.plx import (
    DEVICE_STATUS,
    MEASUREMENT_STATUS,
    PlxContinuousFrame,
    PlxSpotCheckFrame,
)
from devices.measurement import DecodeError, Measurement

from .strategies import optional_flag_sets, optional_timestamps, sfloats


def _measure(uuid: int, hex_bytes: str) -> Measurement:
    measurement = gatt.decode(uuid, bytes.fromhex(hex_bytes))
    assert isinstance(measurement, Measurement)
    return measurement


def test_spot_check_with_every_field() -> None:
    # flags 0x1F; SpO2 98, PR 72, time stamp, validated data, low perfusion, PAI 2.5
    measurement = _measure(0x2A5E, "1f 6200 4800 e807050108 1e00 8000 200000 19f0")
    assert measurement.kind == "spo2"
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("59408-5", Decimal(98), "%"),
        ("8867-4", Decimal(72), "/min"),
        ("61006-3", Decimal("2.5"), "%"),
    ]
    assert measurement.timestamp == datetime(2024, 5, 1, 8, 30)
    assert measurement.status == ("validated_data", "low_perfusion", "device_clock_not_set")


def test_spot_check_minimal() -> None:
    measurement = _measure(0x2A5E, "00 6100 4b00")
    assert [o.value for o in measurement.observations] == [Decimal(97), Decimal(75)]
    assert measurement.timestamp is None
    assert measurement.status == ()


def test_continuous_with_fast_and_slow() -> None:
    data = bytes.fromhex("03 6200 4800 6100 4600 6000 4500")
    frame = gatt.decode_frame(0x2A5F, data)
    assert isinstance(frame, PlxContinuousFrame)
    assert frame.fast == (Decimal(97), Decimal(70))
    assert frame.slow == (Decimal(96), Decimal(69))
    measurement = frame.to_measurement()
    assert [o.value for o in measurement.observations] == [Decimal(98), Decimal(72)]


@pytest.mark.parametrize(("bit", "name"), MEASUREMENT_STATUS)
def test_every_measurement_status_bit(bit: int, name: str) -> None:
    status = (1 << bit).to_bytes(2, "little").hex()
    assert _measure(0x2A5F, f"04 6200 4800 {status}").status == (name,)


@pytest.mark.parametrize(("bit", "name"), DEVICE_STATUS)
def test_every_device_and_sensor_status_bit(bit: int, name: str) -> None:
    status = (1 << bit).to_bytes(3, "little").hex()
    assert _measure(0x2A5F, f"08 6200 4800 {status}").status == (name,)


def test_reserved_status_bits_are_ignored() -> None:
    assert _measure(0x2A5F, "0c 6200 4800 1f00 0000ff").status == ()


def test_unavailable_spo2() -> None:
    measurement = _measure(0x2A5E, "00 ff07 ff07")
    assert measurement.to_json()["observations"][0]["value"] is None


@pytest.mark.parametrize(
    ("uuid", "data", "message"),
    [
        (0x2A5E, "01 6200 4800 e8070501", "time stamp needs 7 bytes, 4 left"),
        (0x2A5E, "02 6200 4800", "measurement status needs 2 bytes, 0 left"),
        (0x2A5E, "04 6200 4800 0000", "device and sensor status needs 3 bytes, 2 left"),
        (0x2A5E, "08 6200 4800 19", "pulse amplitude index needs 2 bytes, 1 left"),
        (0x2A5F, "01 6200 4800 6100", "pulse rate fast needs 2 bytes, 0 left"),
        (0x2A5F, "02 6200 4800", "SpO2 slow needs 2 bytes, 0 left"),
        (0x2A5F, "00 6200", "pulse rate needs 2 bytes, 0 left"),
        (0x2A5E, "00 0108 4800", "reserved"),  # SpO2 = the reserved SFLOAT
    ],
)
def test_malformed(uuid: int, data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(uuid, bytes.fromhex(data))


spot_frames = st.builds(
    PlxSpotCheckFrame,
    spo2=sfloats,
    pulse_rate=sfloats,
    timestamp=optional_timestamps,
    clock_not_set=st.booleans(),
    measurement_status=optional_flag_sets(MEASUREMENT_STATUS),
    device_status=optional_flag_sets(DEVICE_STATUS),
    pulse_amplitude_index=st.none() | sfloats,
)
pairs = st.none() | st.tuples(sfloats, sfloats)
continuous_frames = st.builds(
    PlxContinuousFrame,
    spo2=sfloats,
    pulse_rate=sfloats,
    fast=pairs,
    slow=pairs,
    measurement_status=optional_flag_sets(MEASUREMENT_STATUS),
    device_status=optional_flag_sets(DEVICE_STATUS),
    pulse_amplitude_index=st.none() | sfloats,
)


@given(spot_frames)
def test_spot_check_round_trip(frame: PlxSpotCheckFrame) -> None:
    assert PlxSpotCheckFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A5E, frame.to_bytes()) == frame.to_measurement()


@given(continuous_frames)
def test_continuous_round_trip(frame: PlxContinuousFrame) -> None:
    assert PlxContinuousFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A5F, frame.to_bytes()) == frame.to_measurement()
