"""Weight Measurement 0x2A9D and Body Composition Measurement 0x2A9C."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.body_composition import BodyCompositionFrame
from devices.gatt.weight import WeightFrame
from devices.measurement import DecodeError, Measurement

from .strategies import optional_timestamps, user_ids


def _measure(uuid: int, hex_bytes: str) -> Measurement:
    measurement = gatt.decode(uuid, bytes.fromhex(hex_bytes))
    assert isinstance(measurement, Measurement)
    return measurement


def _values(measurement: Measurement) -> list[tuple[str, Decimal | None, str]]:
    return [(o.code, o.value, o.unit) for o in measurement.observations]


def test_weight_si_with_everything() -> None:
    # 70.5 kg = 14100 * 0.005; user 3; BMI 23.0; height 1.750 m
    measurement = _measure(0x2A9D, "0e 1437 e807050108 1e00 03 e600 d606")
    assert measurement.kind == "weight"
    assert _values(measurement) == [
        ("29463-7", Decimal("70.5"), "kg"),
        ("39156-5", Decimal("23.0"), "kg/m2"),
        ("8302-2", Decimal("175.0"), "cm"),
    ]
    assert measurement.timestamp == datetime(2024, 5, 1, 8, 30)
    frame = gatt.decode_frame(0x2A9D, bytes.fromhex("0e 1437 e807050108 1e00 03 e600 d606"))
    assert isinstance(frame, WeightFrame)
    assert frame.user_id == 3


def test_weight_imperial_keeps_its_units() -> None:
    measurement = _measure(0x2A9D, "09 b63c e500 b102")  # 155.42 lb, BMI 22.9, 68.9 in
    assert _values(measurement) == [
        ("29463-7", Decimal("155.42"), "[lb_av]"),
        ("39156-5", Decimal("22.9"), "kg/m2"),
        ("8302-2", Decimal("68.9"), "[in_i]"),
    ]


def test_weight_unsuccessful() -> None:
    measurement = _measure(0x2A9D, "00 ffff")
    assert measurement.observations[0].value is None
    assert measurement.status == ("measurement_unsuccessful",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("00 14", "weight needs 2 bytes, 1 left"),
        ("02 1437 e807", "time stamp needs 7 bytes, 2 left"),
        ("04 1437", "user id needs 1 bytes, 0 left"),
        ("08 1437 e600", "height needs 2 bytes, 0 left"),
    ],
)
def test_weight_missing_fields(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A9D, bytes.fromhex(data))


def test_weight_encoder_refuses_inexact_values() -> None:
    with pytest.raises(ValueError, match=r"not a multiple of 0\.005"):
        WeightFrame(Decimal("70.501")).to_bytes()
    with pytest.raises(ValueError, match="BMI and height go together"):
        WeightFrame(Decimal(70), bmi=Decimal(23)).to_bytes()


def test_body_composition() -> None:
    # body fat 22.5 %, time stamp, user 1, basal metabolism 6900 kJ, weight 70.5 kg, 1.750 m
    data = bytes.fromhex("0e0c e100 e807050108 1e00 01 f41a 1437 d606")
    measurement = _measure(0x2A9C, data.hex())
    assert measurement.kind == "body_composition"
    assert _values(measurement) == [
        ("41982-0", Decimal("22.5"), "%"),
        ("29463-7", Decimal("70.5"), "kg"),
        ("8302-2", Decimal("175.0"), "cm"),
    ]
    frame = gatt.decode_frame(0x2A9C, data)
    assert isinstance(frame, BodyCompositionFrame)
    assert frame.basal_metabolism == Decimal(6900)
    assert frame.user_id == 1
    assert frame.to_bytes() == data


def test_body_composition_every_optional_field_in_order() -> None:
    # bits 3-11 set, SI: each u16 is 1000 + its bit number
    fields = b"".join((1000 + bit).to_bytes(2, "little") for bit in range(3, 12))
    frame = BodyCompositionFrame.from_bytes(bytes.fromhex("f80f c800") + fields)
    assert frame.body_fat == Decimal("20.0")
    assert frame.basal_metabolism == Decimal(1003)
    assert frame.muscle_percentage == Decimal("100.4")
    assert frame.muscle_mass == Decimal("5.025")
    assert frame.fat_free_mass == Decimal("5.030")
    assert frame.soft_lean_mass == Decimal("5.035")
    assert frame.body_water_mass == Decimal("5.040")
    assert frame.impedance == Decimal("100.9")
    assert frame.weight == Decimal("5.050")
    assert frame.height == Decimal("1.011")


def test_body_composition_multiple_packet_and_unsuccessful() -> None:
    measurement = _measure(0x2A9C, "0010 ffff")
    assert measurement.observations[0].value is None
    assert measurement.status == ("measurement_unsuccessful", "multiple_packet")


def test_body_composition_missing_field() -> None:
    with pytest.raises(DecodeError, match="impedance needs 2 bytes, 0 left"):
        gatt.decode(0x2A9C, bytes.fromhex("0002 e100"))


optional_u16 = st.none() | st.integers(0, 0xFFFE)


@st.composite
def weight_frames(draw: st.DrawFn) -> WeightFrame:
    imperial = draw(st.booleans())
    raw = draw(optional_u16)
    bmi_height = draw(st.none() | st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)))
    return WeightFrame(
        weight=None if raw is None else raw * (Decimal("0.01") if imperial else Decimal("0.005")),
        imperial=imperial,
        timestamp=draw(optional_timestamps),
        user_id=draw(user_ids),
        bmi=None if bmi_height is None else bmi_height[0] * Decimal("0.1"),
        height=None
        if bmi_height is None
        else bmi_height[1] * (Decimal("0.1") if imperial else Decimal("0.001")),
    )


@given(weight_frames())
def test_weight_round_trip(frame: WeightFrame) -> None:
    assert WeightFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A9D, frame.to_bytes()) == frame.to_measurement()


@st.composite
def body_frames(draw: st.DrawFn) -> BodyCompositionFrame:
    imperial = draw(st.booleans())
    mass_step = Decimal("0.01") if imperial else Decimal("0.005")
    height_step = Decimal("0.1") if imperial else Decimal("0.001")

    def scaled(step: Decimal) -> Decimal | None:
        raw = draw(optional_u16)
        return None if raw is None else raw * step

    fat = draw(optional_u16)
    return BodyCompositionFrame(
        body_fat=None if fat is None else fat * Decimal("0.1"),
        imperial=imperial,
        timestamp=draw(optional_timestamps),
        user_id=draw(user_ids),
        basal_metabolism=scaled(Decimal(1)),
        muscle_percentage=scaled(Decimal("0.1")),
        muscle_mass=scaled(mass_step),
        fat_free_mass=scaled(mass_step),
        soft_lean_mass=scaled(mass_step),
        body_water_mass=scaled(mass_step),
        impedance=scaled(Decimal("0.1")),
        weight=scaled(mass_step),
        height=scaled(height_step),
        multiple_packet=draw(st.booleans()),
    )


@given(body_frames())
def test_body_composition_round_trip(frame: BodyCompositionFrame) -> None:
    assert BodyCompositionFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A9C, frame.to_bytes()) == frame.to_measurement()
