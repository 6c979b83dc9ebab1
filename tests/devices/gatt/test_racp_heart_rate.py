"""Record Access Control Point 0x2A52 and Heart Rate Measurement 0x2A37."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import gatt
from devices.gatt.heart_rate import HeartRateFrame
from devices.gatt.racp import (
    NumberOfRecords,
    OpCode,
    Operator,
    RacpRequest,
    RacpRequestError,
    ResponseCode,
    ResponseValue,
)
from devices.measurement import DecodeError, Measurement

REPORT = OpCode.REPORT_STORED_RECORDS


@pytest.mark.parametrize(
    ("request_", "wire"),
    [
        (RacpRequest.report_all(), "0101"),
        (RacpRequest.report_from(5), "0103 01 0500"),
        (RacpRequest.count_all(), "0401"),
        (RacpRequest.count_from(300), "0403 01 2c01"),
        (RacpRequest.abort(), "0300"),
        (RacpRequest(OpCode.DELETE_STORED_RECORDS, Operator.ALL), "0201"),
        (RacpRequest(REPORT, Operator.LESS_OR_EQUAL, high=9), "0102 01 0900"),
        (RacpRequest(REPORT, Operator.WITHIN_RANGE, 2, 9), "0104 01 0200 0900"),
        (RacpRequest(REPORT, Operator.LAST), "0106"),
    ],
)  # fmt: skip
def test_requests(request_: RacpRequest, wire: str) -> None:
    assert request_.to_bytes() == bytes.fromhex(wire)
    assert RacpRequest.from_bytes(bytes.fromhex(wire)) == request_


def test_request_filter() -> None:
    assert [n for n in range(1, 8) if RacpRequest.report_from(5).matches(n)] == [5, 6, 7]
    within = RacpRequest(OpCode.REPORT_STORED_RECORDS, Operator.WITHIN_RANGE, 2, 3)
    assert [n for n in range(1, 8) if within.matches(n)] == [2, 3]
    assert all(RacpRequest.report_all().matches(n) for n in range(5))


@pytest.mark.parametrize(
    ("wire", "response"),
    [
        ("07 01", ResponseValue.OP_CODE_NOT_SUPPORTED),
        ("05 00 0100", ResponseValue.OP_CODE_NOT_SUPPORTED),  # a response is no request
        ("01 07", ResponseValue.INVALID_OPERATOR),
        ("03 01", ResponseValue.INVALID_OPERATOR),  # abort takes the null operator
        ("01 00", ResponseValue.INVALID_OPERATOR),  # report needs an operator
        ("01 03", ResponseValue.INVALID_OPERAND),
        ("01 03 01 05", ResponseValue.INVALID_OPERAND),
        ("01 03 02 0500", ResponseValue.OPERAND_NOT_SUPPORTED),  # user facing time filter
        ("01 04 01 0900 0200", ResponseValue.INVALID_OPERAND),  # empty range
    ],
)
def test_refused_requests_carry_the_response(wire: str, response: ResponseValue) -> None:
    with pytest.raises(RacpRequestError) as caught:
        RacpRequest.from_bytes(bytes.fromhex(wire))
    assert caught.value.response is response
    assert caught.value.request_op == bytes.fromhex(wire)[0]
    assert isinstance(caught.value, DecodeError)


def test_request_encoder_refusals() -> None:
    with pytest.raises(ValueError, match="needs a sequence number"):
        RacpRequest(OpCode.REPORT_STORED_RECORDS, Operator.GREATER_OR_EQUAL).to_bytes()
    with pytest.raises(ValueError, match="is a response"):
        RacpRequest(OpCode.RESPONSE_CODE).to_bytes()


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("05 00 0a00", NumberOfRecords(10)),
        ("06 00 01 01", ResponseCode(1, ResponseValue.SUCCESS)),
        ("06 00 01 06", ResponseCode(1, ResponseValue.NO_RECORDS_FOUND)),
        ("06 00 02 02", ResponseCode(2, ResponseValue.OP_CODE_NOT_SUPPORTED)),
        ("06 00 01 03", ResponseCode(1, ResponseValue.INVALID_OPERATOR)),
        ("06 00 03 07", ResponseCode(3, ResponseValue.ABORT_UNSUCCESSFUL)),
        ("06 00 20 02", ResponseCode(0x20, ResponseValue.OP_CODE_NOT_SUPPORTED)),
    ],
)
def test_responses(wire: str, expected: NumberOfRecords | ResponseCode) -> None:
    assert gatt.decode(0x2A52, bytes.fromhex(wire)) == expected
    assert expected.to_bytes() == bytes.fromhex(wire)


def test_response_success_property() -> None:
    assert ResponseCode(1, ResponseValue.SUCCESS).success
    assert not ResponseCode(1, ResponseValue.NO_RECORDS_FOUND).success


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ("06 00 01 0a", "response code 10 is reserved"),
        ("06 00 01 00", "response code 0 is reserved"),
        ("01 01", "operator 1 should be 0"),
        ("04 00", "op code 4 is not a response"),
        ("05 00 0a", "number of records needs 2 bytes, 1 left"),
        ("06 00 01", "response code value needs 1 bytes, 0 left"),
        ("", "op code needs 1 bytes"),
    ],
)
def test_bad_responses(wire: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A52, bytes.fromhex(wire))


requests = st.one_of(
    st.builds(RacpRequest.report_all),
    st.builds(RacpRequest.count_all),
    st.builds(RacpRequest.abort),
    st.builds(RacpRequest.report_from, st.integers(0, 0xFFFF)),
    st.builds(RacpRequest.count_from, st.integers(0, 0xFFFF)),
    st.builds(
        lambda op, a, b: RacpRequest(op, Operator.WITHIN_RANGE, min(a, b), max(a, b)),
        st.sampled_from([OpCode.REPORT_STORED_RECORDS, OpCode.DELETE_STORED_RECORDS]),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
    ),
)


@given(requests)
def test_request_round_trip(request_: RacpRequest) -> None:
    assert RacpRequest.from_bytes(request_.to_bytes()) == request_


@given(st.binary(max_size=8))
def test_random_requests_only_raise_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        RacpRequest.from_bytes(data)


def test_heart_rate_with_everything() -> None:
    # contact supported and detected, energy 300 kJ, RR 1.0 s and 0.5 s
    data = bytes.fromhex("1e 48 2c01 0004 0002")
    measurement = gatt.decode(0x2A37, data)
    assert isinstance(measurement, Measurement)
    assert measurement.kind == "heart_rate"
    assert [(o.code, o.value, o.unit) for o in measurement.observations] == [
        ("8867-4", Decimal(72), "/min")
    ]
    assert measurement.status == ("sensor_contact",)
    frame = gatt.decode_frame(0x2A37, data)
    assert frame == HeartRateFrame(72, False, True, 300, (Decimal(1), Decimal("0.5")))
    assert frame.to_bytes() == data


@pytest.mark.parametrize(
    ("data", "rate", "status"),
    [("01 2c01", 300, ()), ("04 3c", 60, ("no_sensor_contact",)), ("02 3c", 60, ())],
)
def test_heart_rate_formats_and_contact(data: str, rate: int, status: tuple[str, ...]) -> None:
    measurement = gatt.decode(0x2A37, bytes.fromhex(data))
    assert isinstance(measurement, Measurement)
    assert measurement.observations[0].value == rate
    assert measurement.status == status


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("01 2c", "heart rate needs 2 bytes, 1 left"),
        ("08 48 2c", "energy expended needs 2 bytes, 1 left"),
        ("10 48", "RR intervals need 2 bytes each, 0 left"),
        ("10 48 0004 00", "RR intervals need 2 bytes each, 3 left"),
    ],
)
def test_heart_rate_malformed(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        gatt.decode(0x2A37, bytes.fromhex(data))


def test_rr_interval_encoder_refuses_inexact() -> None:
    with pytest.raises(ValueError, match="1/1024"):
        HeartRateFrame(60, rr_intervals=(Decimal("0.001"),)).to_bytes()


@st.composite
def heart_rate_frames(draw: st.DrawFn) -> HeartRateFrame:
    wide = draw(st.booleans())
    return HeartRateFrame(
        heart_rate=draw(st.integers(0, 0xFFFF if wide else 0xFF)),
        wide=wide,
        sensor_contact=draw(st.none() | st.booleans()),
        energy_expended_kj=draw(st.none() | st.integers(0, 0xFFFF)),
        rr_intervals=tuple(
            Decimal(n) / 1024 for n in draw(st.lists(st.integers(0, 0xFFFF), max_size=8))
        ),
    )


@given(heart_rate_frames())
def test_heart_rate_round_trip(frame: HeartRateFrame) -> None:
    assert HeartRateFrame.from_bytes(frame.to_bytes()) == frame
    assert gatt.decode(0x2A37, frame.to_bytes()) == frame.to_measurement()
