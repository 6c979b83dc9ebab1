"""Record Access Control Point 0x2A52 (Glucose service 0x1808): fetch stored records.

The cabin writes a request (op code u8, operator u8, [filter type u8, operand]); the
device indicates records on 0x2A18/0x2A34 and ends with a response on the RACP:
"number of stored records" (0x05, operator 0, count u16) or "response code" (0x06,
operator 0, request op code u8, response value u8). Only the sequence-number filter
(type 0x01, u16 operands) is supported, the one the Glucose Profile requires.

``RacpRequest.from_bytes`` (the simulated device's side) raises ``RacpRequestError``,
a DecodeError carrying the response value the device should answer with."""

from __future__ import annotations

import dataclasses
import enum

from devices.gatt._codec import Reader, Writer
from devices.measurement import DecodeError


class OpCode(enum.IntEnum):
    REPORT_STORED_RECORDS = 0x01
    DELETE_STORED_RECORDS = 0x02
    ABORT = 0x03
    REPORT_NUMBER_OF_RECORDS = 0x04
    NUMBER_OF_RECORDS_RESPONSE = 0x05
    RESPONSE_CODE = 0x06


class Operator(enum.IntEnum):
    NULL = 0x00
    ALL = 0x01
    LESS_OR_EQUAL = 0x02
    GREATER_OR_EQUAL = 0x03
    WITHIN_RANGE = 0x04
    FIRST = 0x05
    LAST = 0x06


class ResponseValue(enum.IntEnum):
    SUCCESS = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_OPERATOR = 0x03
    OPERATOR_NOT_SUPPORTED = 0x04
    INVALID_OPERAND = 0x05
    NO_RECORDS_FOUND = 0x06
    ABORT_UNSUCCESSFUL = 0x07
    PROCEDURE_NOT_COMPLETED = 0x08
    OPERAND_NOT_SUPPORTED = 0x09


FILTER_SEQUENCE_NUMBER = 0x01
_REQUESTS = frozenset({OpCode.REPORT_STORED_RECORDS, OpCode.DELETE_STORED_RECORDS,
                       OpCode.ABORT, OpCode.REPORT_NUMBER_OF_RECORDS})  # fmt: skip
_OPERATORS = frozenset(int(o) for o in Operator)
_RESPONSE_VALUES = frozenset(int(v) for v in ResponseValue)


class RacpRequestError(DecodeError):
    """A request the device must refuse; ``response`` is what it answers."""

    def __init__(self, message: str, request_op: int, response: ResponseValue) -> None:
        super().__init__(message)
        self.request_op = request_op
        self.response = response


@dataclasses.dataclass(frozen=True)
class RacpRequest:
    op: OpCode
    operator: Operator = Operator.ALL
    low: int | None = None  # sequence number: >= low (GREATER_OR_EQUAL, WITHIN_RANGE)
    high: int | None = None  # sequence number: <= high (LESS_OR_EQUAL, WITHIN_RANGE)

    @classmethod
    def report_all(cls) -> RacpRequest:
        return cls(OpCode.REPORT_STORED_RECORDS, Operator.ALL)

    @classmethod
    def report_from(cls, sequence_number: int) -> RacpRequest:
        """Stored records with a sequence number >= ``sequence_number``."""
        return cls(OpCode.REPORT_STORED_RECORDS, Operator.GREATER_OR_EQUAL, sequence_number)

    @classmethod
    def count_all(cls) -> RacpRequest:
        return cls(OpCode.REPORT_NUMBER_OF_RECORDS, Operator.ALL)

    @classmethod
    def count_from(cls, sequence_number: int) -> RacpRequest:
        return cls(OpCode.REPORT_NUMBER_OF_RECORDS, Operator.GREATER_OR_EQUAL, sequence_number)

    @classmethod
    def abort(cls) -> RacpRequest:
        return cls(OpCode.ABORT, Operator.NULL)

    def matches(self, sequence_number: int) -> bool:
        """Whether a record is selected (the simulated device's filter). FIRST/LAST are
        relative to the stored set: the caller picks the first or last match of ALL."""
        if self.operator in (Operator.GREATER_OR_EQUAL, Operator.WITHIN_RANGE):
            assert self.low is not None
            if sequence_number < self.low:
                return False
        if self.operator in (Operator.LESS_OR_EQUAL, Operator.WITHIN_RANGE):
            assert self.high is not None
            if sequence_number > self.high:
                return False
        return True

    def to_bytes(self) -> bytes:
        if self.op not in _REQUESTS:
            raise ValueError(f"RACP: {self.op.name} is a response, not a request")
        head = bytes((self.op, self.operator))
        if self.operator is Operator.GREATER_OR_EQUAL:
            return head + _operand(self.low)
        if self.operator is Operator.LESS_OR_EQUAL:
            return head + _operand(self.high)
        if self.operator is Operator.WITHIN_RANGE:
            return head + _operand(self.low) + _operand(self.high, with_filter=False)
        return head

    @classmethod
    def from_bytes(cls, data: bytes) -> RacpRequest:
        r = Reader(data, "RACP request")
        raw_op = r.u8("op code")
        if raw_op not in _REQUESTS:
            raise RacpRequestError(f"RACP: op code {raw_op} is not a request", raw_op,
                                   ResponseValue.OP_CODE_NOT_SUPPORTED)  # fmt: skip
        op = OpCode(raw_op)
        raw_operator = r.u8("operator")
        if raw_operator not in _OPERATORS:
            raise RacpRequestError(f"RACP: operator {raw_operator} is reserved", raw_op,
                                   ResponseValue.INVALID_OPERATOR)  # fmt: skip
        operator = Operator(raw_operator)
        if (op is OpCode.ABORT) != (operator is Operator.NULL):
            raise RacpRequestError(f"RACP: {op.name} cannot use operator {operator.name}",
                                   raw_op, ResponseValue.INVALID_OPERATOR)  # fmt: skip
        low = high = None
        if operator in (Operator.GREATER_OR_EQUAL, Operator.WITHIN_RANGE):
            low = _read_operand(r, raw_op)
        if operator is Operator.LESS_OR_EQUAL:
            high = _read_operand(r, raw_op)
        if operator is Operator.WITHIN_RANGE:
            high = _read_u16_operand(r, raw_op)
            assert low is not None
            if high < low:
                raise RacpRequestError(f"RACP: range {low}..{high} is empty", raw_op,
                                       ResponseValue.INVALID_OPERAND)  # fmt: skip
        return cls(op, operator, low, high)


def _operand(value: int | None, with_filter: bool = True) -> bytes:
    if value is None:
        raise ValueError("RACP: this operator needs a sequence number")
    return (bytes((FILTER_SEQUENCE_NUMBER,)) if with_filter else b"") + _u16(value)


def _u16(value: int) -> bytes:
    w = Writer()
    w.u16(value)
    return w.bytes()


def _read_operand(r: Reader, raw_op: int) -> int:
    try:
        filter_type = r.u8("filter type")
    except DecodeError as exc:
        raise RacpRequestError(str(exc), raw_op, ResponseValue.INVALID_OPERAND) from None
    if filter_type != FILTER_SEQUENCE_NUMBER:
        raise RacpRequestError(f"RACP: filter type {filter_type} is not supported", raw_op,
                               ResponseValue.OPERAND_NOT_SUPPORTED)  # fmt: skip
    return _read_u16_operand(r, raw_op)


def _read_u16_operand(r: Reader, raw_op: int) -> int:
    try:
        return r.u16("sequence number operand")
    except DecodeError as exc:
        raise RacpRequestError(str(exc), raw_op, ResponseValue.INVALID_OPERAND) from None


@dataclasses.dataclass(frozen=True)
class NumberOfRecords:
    count: int

    def to_bytes(self) -> bytes:
        return bytes((OpCode.NUMBER_OF_RECORDS_RESPONSE, Operator.NULL)) + _u16(self.count)


@dataclasses.dataclass(frozen=True)
class ResponseCode:
    request_op: int  # the op code of the request answered (may be one the device lacks)
    value: ResponseValue

    @property
    def success(self) -> bool:
        return self.value is ResponseValue.SUCCESS

    def to_bytes(self) -> bytes:
        return bytes((OpCode.RESPONSE_CODE, Operator.NULL, self.request_op, self.value))


RacpResponse = NumberOfRecords | ResponseCode


def decode_racp_response(data: bytes) -> RacpResponse:
    """A RACP indication from the device; DecodeError for anything but a response."""
    r = Reader(data, "RACP response")
    op = r.u8("op code")
    operator = r.u8("operator")
    if operator != Operator.NULL:
        raise DecodeError(f"RACP response: operator {operator} should be 0 (null)")
    if op == OpCode.NUMBER_OF_RECORDS_RESPONSE:
        return NumberOfRecords(r.u16("number of records"))
    if op == OpCode.RESPONSE_CODE:
        request_op = r.u8("request op code")
        value = r.u8("response code value")
        if value not in _RESPONSE_VALUES:
            raise DecodeError(f"RACP response: response code {value} is reserved")
        return ResponseCode(request_op, ResponseValue(value))
    raise DecodeError(f"RACP response: op code {op} is not a response")
