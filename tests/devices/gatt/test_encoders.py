"""Encoders given any field values either produce bytes that decode back or raise
ValueError (what a simulator or a test author gets for an impossible value)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.glucose_context import GlucoseContext
from devices.gatt.racp import NumberOfRecords, RacpRequest
from devices.ieee11073 import EXACT, Special, decode_sfloat, encode_sfloat

from .strategies import optional_timestamps

wild_ints = st.integers(-(2**20), 2**20)
wild_decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.sampled_from(list(Special)),
)
frames = st.one_of(
    st.builds(gatt.BloodPressureFrame, wild_decimals, wild_decimals, wild_decimals,
              st.booleans(), optional_timestamps, st.none() | wild_decimals,
              st.none() | wild_ints),
    st.builds(gatt.TemperatureFrame, wild_decimals),
    st.builds(gatt.WeightFrame, st.none() | st.decimals(), st.booleans(), optional_timestamps,
              st.none() | wild_ints),
    st.builds(gatt.BodyCompositionFrame, st.none() | st.decimals(), impedance=st.decimals()),
    st.builds(gatt.GlucoseFrame, wild_ints, optional_timestamps, st.none() | wild_ints,
              st.none() | wild_decimals),
    st.builds(gatt.HeartRateFrame, wild_ints, st.booleans(),
              energy_expended_kj=st.none() | wild_ints,
              rr_intervals=st.lists(st.decimals(), max_size=3).map(tuple)),
    st.builds(GlucoseContext, wild_ints, hba1c_percent=st.none() | wild_decimals),
    st.builds(NumberOfRecords, wild_ints),
    st.builds(RacpRequest.report_from, wild_ints),
)  # fmt: skip


@given(frames)
def test_encoders_raise_only_value_error(frame: object) -> None:
    try:
        data = frame.to_bytes()  # type: ignore[attr-defined]
    except ValueError:
        return
    assert isinstance(data, bytes)


def test_encoding_is_exact_whatever_the_thread_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 2  # a careless caller elsewhere in the thread
        assert decode_sfloat(encode_sfloat(Decimal("-2.045"))) == Decimal("-2.045")
        with pytest.raises(ValueError, match="cannot be represented"):
            encode_sfloat(Decimal("1.0000000000000000000000000000000001"))
        weight = gatt.WeightFrame(Decimal("70.505"))
        assert gatt.WeightFrame.from_bytes(weight.to_bytes()).weight == Decimal("70.505")
        glucose = gatt.decode_measurement(0x2A18, bytes.fromhex("06 0100 e807050108 1e00 37c0 11"))
        assert glucose.observations[0].value == Decimal("5.5")
    assert EXACT.prec == 64
