"""IEEE 11073 SFLOAT/FLOAT: spec vectors, every special value, exact round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.ieee11073 import (
    Special,
    decode_float,
    decode_sfloat,
    encode_float,
    encode_sfloat,
    float_from_bytes,
    float_to_bytes,
    observed,
    sfloat_from_bytes,
    sfloat_to_bytes,
)
from devices.measurement import DecodeError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0x0072, Decimal(114)),  # exponent 0, mantissa 114
        (0xF2F8, Decimal("76.0")),  # exponent -1, mantissa 0x2F8 = 760
        (0xFFFF, Decimal("-0.1")),  # exponent -1, mantissa -1
        (0x0800 - 3, Decimal(2045)),  # largest normal mantissa
        (0x0803, Decimal(-2045)),  # smallest normal mantissa
        (0x7001, Decimal("1E7")),  # largest exponent
        (0x8001, Decimal("1E-8")),  # smallest exponent
        (0xC037, Decimal("0.0055")),  # glucose 5.5 mmol/L sent as mol/L
        (0x0000, Decimal(0)),
    ],
)
def test_sfloat_vectors(raw: int, expected: Decimal) -> None:
    value = decode_sfloat(raw)
    assert isinstance(value, Decimal)
    assert value == expected
    assert sfloat_from_bytes(raw.to_bytes(2, "little")) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0xFF00016F, Decimal("36.7")),  # 36.7 °C from the Health Thermometer spec examples
        (0x00000172, Decimal(370)),
        (0xFE000E42, Decimal("36.50")),
        (0x02FFFFFF, Decimal(-100)),  # exponent 2, mantissa -1
        (0x807FFFFD, Decimal(8388605).scaleb(-128)),  # extreme exponent stays exact
    ],
)
def test_float_vectors(raw: int, expected: Decimal) -> None:
    assert decode_float(raw) == expected
    assert float_from_bytes(raw.to_bytes(4, "little")) == expected


@pytest.mark.parametrize(
    ("sfloat", "float32", "special"),
    [
        (0x07FF, 0x007FFFFF, Special.NAN),
        (0x0800, 0x00800000, Special.NRES),
        (0x07FE, 0x007FFFFE, Special.POS_INF),
        (0x0802, 0x00800002, Special.NEG_INF),
    ],
)
def test_special_values_decode_and_encode(sfloat: int, float32: int, special: Special) -> None:
    assert decode_sfloat(sfloat) is special
    assert decode_float(float32) is special
    assert encode_sfloat(special) == sfloat
    assert encode_float(special) == float32


def test_special_mantissa_is_special_whatever_the_exponent() -> None:
    assert decode_sfloat(0xF7FF) is Special.NAN
    assert decode_float(0x05800000) is Special.NRES


@pytest.mark.parametrize("raw", [0x0801, 0x3801])
def test_sfloat_reserved_is_a_decode_error(raw: int) -> None:
    with pytest.raises(DecodeError, match="reserved"):
        decode_sfloat(raw)


def test_float_reserved_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="reserved"):
        decode_float(0x00800001)


def test_wrong_lengths_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="needs 2 bytes"):
        sfloat_from_bytes(b"\x01")
    with pytest.raises(DecodeError, match="needs 4 bytes"):
        float_from_bytes(b"\x01\x02\x03")


def test_decimal_nan_and_infinities_encode_as_specials() -> None:
    assert encode_sfloat(Decimal("NaN")) == 0x07FF
    assert encode_sfloat(Decimal("Infinity")) == 0x07FE
    assert encode_float(Decimal("-Infinity")) == 0x00800002


def test_encoder_prefers_exponent_zero_for_whole_numbers() -> None:
    assert sfloat_to_bytes(Decimal(120)) == bytes.fromhex("7800")
    assert float_to_bytes(Decimal("36.7")) == bytes.fromhex("6f0100ff")
    assert encode_sfloat(Decimal(20000)) == 0x4002  # too large for exponent 0: 2e4
    assert encode_sfloat(Decimal("1E9")) == 0x7064  # 100e7: exponent at most 7


@pytest.mark.parametrize("value", ["2046", "20460", "1E-9", "0.12345", "1E11", "123456789"])
def test_unrepresentable_values_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="cannot be represented"):
        encode_sfloat(Decimal(value))


def test_float_range() -> None:
    assert decode_float(encode_float(Decimal("8388605"))) == Decimal(8388605)
    with pytest.raises(ValueError, match="cannot be represented"):
        encode_float(Decimal("123456789"))


def test_observed_values() -> None:
    assert observed(Decimal("1.5")) == Decimal("1.5")
    assert observed(Special.NAN) is None
    assert observed(Special.NRES) is None
    assert observed(Special.POS_INF) == Decimal("Infinity")
    assert observed(Special.NEG_INF) == Decimal("-Infinity")


sfloat_values = st.builds(
    lambda m, e: Decimal(m).scaleb(e),
    st.integers(-2045, 2045),
    st.integers(-8, 7),
)
float_values = st.builds(
    lambda m, e: Decimal(m).scaleb(e),
    st.integers(-(2**23) + 3, 2**23 - 3),
    st.integers(-128, 127),
)


@given(sfloat_values)
def test_sfloat_round_trip(value: Decimal) -> None:
    assert sfloat_from_bytes(sfloat_to_bytes(value)) == value


@given(float_values)
def test_float_round_trip(value: Decimal) -> None:
    assert float_from_bytes(float_to_bytes(value)) == value


@given(st.integers(0, 0xFFFF))
def test_every_sfloat_decodes_or_is_reserved_and_re_encodes(raw: int) -> None:
    try:
        value = decode_sfloat(raw)
    except DecodeError:
        assert raw & 0x0FFF == 0x0801
        return
    assert decode_sfloat(encode_sfloat(value)) == value


@given(st.integers(0, 0xFFFFFFFF))
def test_every_float_decodes_or_is_reserved(raw: int) -> None:
    try:
        value = decode_float(raw)
    except DecodeError:
        assert raw & 0xFFFFFF == 0x800001
        return
    assert decode_float(encode_float(value)) == value
