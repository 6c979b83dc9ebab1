"""Glucose Measurement 0x2A18, Glucose Measurement Context 0x2A34."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.glucose import SAMPLE_LOCATIONS, SAMPLE_TYPES, SENSOR_STATUS, GlucoseFrame
from devices.gatt.glucose_context import (
    CARBOHYDRATES,
    HEALTH,
    MEALS,
    MEDICATIONS,
    TESTERS,
    Carbohydrate,
    Exercise,
    GlucoseContext,
    Medication,
)
from devices.ieee11073 import Special
from devices.measurement import DecodeError, Measurement

from .strategies import optional_flag_sets, optional_timestamps, sfloats

# offset, concentration, mol/L, sensor status; seq 1; -5 min; 0.0055 mol/L; plasma, finger
FULL = bytes.fromhex("0f 0100 e807050108 1e00 fbff 37c0 12 0100")


def test_glucose_mmol_with_offset_and_status() -> None:
    measurement = gatt.decode(0x2A18, FULL)
    assert isinstance(measurement, Measurement)
    assert measurement.kind == "glucose"
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("15074-8", Decimal("5.5"), "mmol/L")
    ]
    assert measurement.timestamp == datetime(2024, 5, 1, 8, 25)
    assert measurement.status == (
        "sample_capillary_plasma",
        "location_finger",
        "device_battery_low",
    )
    frame = gatt.decode_frame(0x2A18, FULL)
    assert isinstance(frame, GlucoseFrame)
    assert frame.sequence_number == 1
    assert frame.to_bytes() == FULL


def test_glucose_mg_dl() -> None:
    # kg/L: 95e-5 kg/L = 95 mg/dL; context follows
    measurement = gatt.decode(0x2A18, bytes.fromhex("12 0200 e807050108 1e00 5fb0 11"))
    assert isinstance(measurement, Measurement)
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("2339-0", Decimal(95), "mg/dL")
    ]
    assert measurement.to_json()["observations"][0]["value"] == 95
    assert measurement.status[-1] == "context_follows"


def test_glucose_without_concentration_or_time() -> None:
    measurement = gatt.decode(0x2A18, bytes.fromhex("00 0300 0000000000 0000"))
    assert isinstance(measurement, Measurement)
    assert measurement.observations == ()
    assert measurement.timestamp is None


def test_glucose_nan_concentration() -> None:
    measurement = gatt.decode(0x2A18, bytes.fromhex("06 0300 e807050108 1e00 ff07 11"))
    assert isinstance(measurement, Measurement)
    assert measurement.observations[0].value is None


@pytest.mark.parametrize(("bit", "name"), SENSOR_STATUS)
def test_every_sensor_status_bit(bit: int, name: str) -> None:
    status = (1 << bit).to_bytes(2, "little").hex()
    measurement = gatt.decode(0x2A18, bytes.fromhex(f"08 0100 e807050108 1e00 {status}"))
    assert isinstance(measurement, Measurement)
    assert measurement.status == (name,)


@pytest.mark.parametrize(
    ("packed", "message"),
    [("10", "type: value 0 is reserved"), ("1b", "type: value 11 is reserved"),
     ("01", "sample location: value 0 is reserved"),
     ("51", "sample location: value 5 is reserved")],
)  # fmt: skip
def test_reserved_type_and_location(packed: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A18, bytes.fromhex(f"02 0100 e807050108 1e00 37c0 {packed}"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("00 01", "sequence number needs 2 bytes, 1 left"),
        ("00 0100 e8070501", "base time needs 7 bytes, 4 left"),
        ("01 0100 e807050108 1e00", "time offset needs 2 bytes, 0 left"),
        ("02 0100 e807050108 1e00 37c0", "type-sample location needs 1 bytes, 0 left"),
        ("08 0100 e807050108 1e00 01", "sensor status annunciation needs 2 bytes, 1 left"),
    ],
)
def test_glucose_missing_fields(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A18, bytes.fromhex(data))


def test_time_offset_overflow_gives_no_time_stamp() -> None:
    frame = GlucoseFrame(1, datetime(9999, 12, 31, 23, 59), time_offset=30000)
    assert GlucoseFrame.from_bytes(frame.to_bytes()).to_measurement().timestamp is None


@st.composite
def glucose_frames(draw: st.DrawFn) -> GlucoseFrame:
    concentration = draw(st.none() | sfloats)
    sample: dict[str, str] = {}
    if concentration is not None:  # type and location travel with the concentration
        sample = {
            "sample_type": draw(st.sampled_from(sorted(SAMPLE_TYPES.values()))),
            "sample_location": draw(st.sampled_from(sorted(SAMPLE_LOCATIONS.values()))),
        }
    return GlucoseFrame(
        sequence_number=draw(st.integers(0, 0xFFFF)),
        base_time=draw(optional_timestamps),
        time_offset=draw(st.none() | st.integers(-0x8000, 0x7FFF)),
        concentration=concentration,
        molar=draw(st.booleans()),
        sensor_status=draw(optional_flag_sets(SENSOR_STATUS)),
        context_follows=draw(st.booleans()),
        **sample,
    )


@given(glucose_frames())
def test_glucose_round_trip(frame: GlucoseFrame) -> None:
    assert GlucoseFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A18, frame.to_bytes()) == frame.to_measurement()


CONTEXT = bytes.fromhex("ff 0100 00 01 05e0 01 51 0807 32 01 04d0 41f0")


def test_context_with_every_field() -> None:
    context = gatt.decode(0x2A34, CONTEXT)
    assert context == GlucoseContext(
        sequence_number=1,
        extended_flags=0,
        carbohydrate=Carbohydrate("breakfast", Decimal("0.05")),
        meal="preprandial",
        tester="self",
        health="no_health_issues",
        exercise=Exercise(1800, 50),
        medication=Medication("rapid_acting_insulin", Decimal("0.004"), litres=True),
        hba1c_percent=Decimal("6.5"),
    )
    assert isinstance(context, GlucoseContext)
    assert context.carbohydrate is not None
    assert context.carbohydrate.grams == Decimal(50)
    assert context.to_bytes() == CONTEXT


def test_context_minimal() -> None:
    assert gatt.decode(0x2A34, bytes.fromhex("00 2a00")) == GlucoseContext(42)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("01 0100 08 05e0", "carbohydrate id: value 8 is reserved"),
        ("02 0100 06", "meal: value 6 is reserved"),
        ("04 0100 50", "tester: value 0 is reserved"),
        ("04 0100 61", "health: value 6 is reserved"),
        ("10 0100 06 04d0", "medication id: value 6 is reserved"),
        ("08 0100 0807", "exercise intensity needs 1 bytes, 0 left"),
        ("40 0100 41", "HbA1c needs 2 bytes, 1 left"),
        ("80 0100", "extended flags needs 1 bytes, 0 left"),
    ],
)
def test_context_malformed(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A34, bytes.fromhex(data))


def _names(table: dict[int, str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(table.values()))


@st.composite
def contexts(draw: st.DrawFn) -> GlucoseContext:
    tester_health = draw(st.none() | st.tuples(_names(TESTERS), _names(HEALTH)))
    return GlucoseContext(
        sequence_number=draw(st.integers(0, 0xFFFF)),
        extended_flags=draw(st.none() | st.integers(0, 255)),
        carbohydrate=draw(st.none() | st.builds(Carbohydrate, _names(CARBOHYDRATES), sfloats)),
        meal=draw(st.none() | _names(MEALS)),
        tester=None if tester_health is None else tester_health[0],
        health=None if tester_health is None else tester_health[1],
        exercise=draw(st.none() | st.builds(Exercise, st.integers(0, 0xFFFF), st.integers(0, 255))),
        medication=draw(
            st.none() | st.builds(Medication, _names(MEDICATIONS), sfloats, st.booleans())
        ),
        hba1c_percent=draw(st.none() | sfloats),
    )


@given(contexts())
def test_context_round_trip(context: GlucoseContext) -> None:
    assert gatt.decode(0x2A34, context.to_bytes()) == context


def test_special_carbohydrate_has_no_grams() -> None:
    assert Carbohydrate("lunch", Special.NAN).grams is None


def test_context_encoder_refusals() -> None:
    with pytest.raises(ValueError, match="tester and health go together"):
        GlucoseContext(1, tester="self").to_bytes()
    with pytest.raises(ValueError, match="unknown value 'elevenses'"):
        GlucoseContext(1, meal="elevenses").to_bytes()
