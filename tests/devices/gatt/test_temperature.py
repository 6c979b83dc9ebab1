"""Temperature Measurement 0x2A1C / Intermediate Temperature 0x2A1E, and the Date Time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.temperature import SITES, TemperatureFrame
from devices.measurement import DecodeError, Measurement

from .strategies import floats, optional_timestamps


def _measure(uuid: int, hex_bytes: str) -> Measurement:
    measurement = gatt.decode(uuid, bytes.fromhex(hex_bytes))
    assert isinstance(measurement, Measurement)
    return measurement


def test_celsius_with_time_stamp_and_site() -> None:
    measurement = _measure(0x2A1C, "06 6f0100ff e807050108 1e00 06")  # 36.7 Cel, mouth
    assert measurement.kind == "temperature"
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("8310-5", Decimal("36.7"), "Cel")
    ]
    assert measurement.timestamp == datetime(2024, 5, 1, 8, 30)
    assert measurement.status == ("site_mouth",)
    assert measurement.to_json()["observations"][0]["value"] == 36.7


def test_fahrenheit_keeps_its_unit() -> None:
    measurement = _measure(0x2A1C, "01 da0300ff")  # 986e-1 = 98.6 degF
    assert [(o.value, o.unit) for o in measurement.observations] == [(Decimal("98.6"), "[degF]")]


def test_intermediate_temperature() -> None:
    measurement = _measure(0x2A1E, "00 6a0100ff")
    assert measurement.intermediate
    assert measurement.observations[0].value == Decimal("36.2")


@pytest.mark.parametrize(("code", "site"), sorted(SITES.items()))
def test_every_temperature_type(code: int, site: str) -> None:
    measurement = _measure(0x2A1C, f"04 6f0100ff {code:02x}")
    assert measurement.status == (f"site_{site}",)


@pytest.mark.parametrize("code", [0, 10, 255])
def test_reserved_temperature_type(code: int) -> None:
    with pytest.raises(DecodeError, match=f"temperature type: value {code} is reserved"):
        gatt.decode(0x2A1C, bytes.fromhex(f"04 6f0100ff {code:02x}"))


def test_nan_temperature_has_no_value() -> None:
    assert _measure(0x2A1C, "00 ffff7f00").observations[0].value is None


@pytest.mark.parametrize(
    "date_time",
    ["0000 05 01 08 1e 00", "e807 00 01 08 1e 00", "e807 05 00 08 1e 00", "0000 00 00 00 00 00"],
)
def test_unknown_date_is_no_time_stamp(date_time: str) -> None:
    assert _measure(0x2A1C, f"02 6f0100ff {date_time}").timestamp is None


@pytest.mark.parametrize(
    ("date_time", "message"),
    [
        ("e807 0d 01 08 1e 00", "not a valid date and time"),  # month 13
        ("e807 05 01 18 1e 00", "not a valid date and time"),  # hour 24
        ("e807 05 01 08 3c 00", "not a valid date and time"),  # minute 60
        ("e807 05 01 08 1e 3c", "not a valid date and time"),  # second 60
        ("e807 02 1e 08 1e 00", "not a valid date"),  # 30 February
        ("2d06 05 01 08 1e 00", "year 1581 is reserved"),
    ],
)
def test_invalid_date_time(date_time: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A1C, bytes.fromhex(f"02 6f0100ff {date_time}"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("00 6f0100", "temperature needs 4 bytes, 3 left"),
        ("02 6f0100ff e80705", "time stamp needs 7 bytes, 3 left"),
        ("04 6f0100ff", "temperature type needs 1 bytes, 0 left"),
    ],
)
def test_flag_announcing_a_missing_field(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A1C, bytes.fromhex(data))


def test_encoder_drops_microseconds_and_refuses_old_years() -> None:
    frame = TemperatureFrame(Decimal("36.7"), timestamp=datetime(2024, 5, 1, 8, 30, 5, 999))
    decoded = TemperatureFrame.from_bytes(frame.to_bytes())
    assert decoded.timestamp == datetime(2024, 5, 1, 8, 30, 5)
    with pytest.raises(ValueError, match="year 1500"):
        TemperatureFrame(Decimal(1), timestamp=datetime(1500, 1, 1)).to_bytes()
    with pytest.raises(ValueError, match="unknown value 'elbow'"):
        TemperatureFrame(Decimal(1), site="elbow").to_bytes()


temperature_frames = st.builds(
    TemperatureFrame,
    value=floats,
    fahrenheit=st.booleans(),
    timestamp=optional_timestamps,
    site=st.none() | st.sampled_from(sorted(SITES.values())),
    intermediate=st.booleans(),
)


@given(temperature_frames)
def test_round_trip_every_flag(frame: TemperatureFrame) -> None:
    data = frame.to_bytes()
    assert TemperatureFrame.from_bytes(data, intermediate=frame.intermediate) == frame
    uuid = 0x2A1E if frame.intermediate else 0x2A1C
    assert gatt.decode(uuid, data) == frame.to_measurement()
