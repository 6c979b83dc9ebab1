"""Record Access Control Point (0x2A52): download a glucometer's stored records.

The cabin writes a request ("report stored records with sequence number >= N"); the meter
notifies each record on Glucose Measurement (0x2A18), then indicates a response code on
the control point. One procedure runs at a time (the spec allows no more)."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import Awaitable, Callable
from enum import IntEnum

# A meter sends its whole memory before the final response (hundreds of records at
# a 7.5-50 ms connection interval): 30 s is generous without hanging a consultation.
RACP_PROCEDURE_TIMEOUT_S = 30.0


class OpCode(IntEnum):
    REPORT_STORED_RECORDS = 0x01
    DELETE_STORED_RECORDS = 0x02
    ABORT_OPERATION = 0x03
    REPORT_NUMBER_OF_RECORDS = 0x04
    NUMBER_OF_RECORDS_RESPONSE = 0x05
    RESPONSE_CODE = 0x06


class Operator(IntEnum):
    NULL = 0x00
    ALL = 0x01
    LESS_OR_EQUAL = 0x02
    GREATER_OR_EQUAL = 0x03
    WITHIN_RANGE = 0x04
    FIRST = 0x05
    LAST = 0x06


FILTER_SEQUENCE_NUMBER = 0x01


class ResponseCode(IntEnum):
    SUCCESS = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_OPERATOR = 0x03
    OPERATOR_NOT_SUPPORTED = 0x04
    INVALID_OPERAND = 0x05
    NO_RECORDS_FOUND = 0x06
    ABORT_UNSUCCESSFUL = 0x07
    PROCEDURE_NOT_COMPLETED = 0x08
    OPERAND_NOT_SUPPORTED = 0x09


class RacpError(Exception):
    """Root of this module's errors."""


class RacpTimeoutError(RacpError, TimeoutError):
    """The meter did not finish the procedure in time (retry after reconnecting)."""


class RacpRefusedError(RacpError):
    """The meter answered with an error response code."""


class RacpFormatError(RacpError, ValueError):
    """A control point value that is not a valid RACP message."""


def report_records_from(sequence_number: int) -> bytes:
    """Request: every stored record whose sequence number is >= ``sequence_number``."""
    if not 0 <= sequence_number <= 0xFFFF:
        raise ValueError(f"sequence number out of range: {sequence_number}")
    return struct.pack(
        "<BBBH",
        OpCode.REPORT_STORED_RECORDS,
        Operator.GREATER_OR_EQUAL,
        FILTER_SEQUENCE_NUMBER,
        sequence_number,
    )


def report_last_record() -> bytes:
    return bytes((OpCode.REPORT_STORED_RECORDS, Operator.LAST))


def report_all_records() -> bytes:
    return bytes((OpCode.REPORT_STORED_RECORDS, Operator.ALL))


@dataclasses.dataclass(frozen=True)
class Response:
    request_op_code: int
    code: int

    @classmethod
    def from_bytes(cls, data: bytes) -> Response:
        """Parse a Response Code message (op code 6, operator null, request op code, code)."""
        if len(data) != 4 or data[0] != OpCode.RESPONSE_CODE or data[1] != Operator.NULL:
            raise RacpFormatError(f"not an RACP response code message ({len(data)} bytes)")
        return cls(request_op_code=data[2], code=data[3])

    def to_bytes(self) -> bytes:
        return bytes((OpCode.RESPONSE_CODE, Operator.NULL, self.request_op_code, self.code))


def glucose_sequence_number(measurement: bytes) -> int | None:
    """The sequence number of a Glucose Measurement value (always after the flags byte)."""
    if len(measurement) < 3:
        return None
    number: int = struct.unpack_from("<H", measurement, 1)[0]
    return number


class RacpProcedure:
    """Runs RACP requests over a connected link, one at a time.

    The link forwards every control point indication to ``on_indication``; ``run``
    writes a request and waits for its response code."""

    def __init__(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        self._write = write
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[Response] | None = None

    def on_indication(self, data: bytes) -> None:
        pending = self._pending
        if pending is None or pending.done():
            return  # a late or unsolicited response: nothing waits for it
        try:
            pending.set_result(Response.from_bytes(data))
        except RacpFormatError as exc:
            pending.set_exception(exc)

    async def run(self, request: bytes) -> Response:
        """Write ``request``; return the meter's response (SUCCESS or NO_RECORDS_FOUND).

        Raises RacpRefusedError for any other response, RacpTimeoutError if none comes."""
        async with self._lock:
            self._pending = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(RACP_PROCEDURE_TIMEOUT_S):
                    await self._write(request)
                    response = await self._pending
            except TimeoutError as exc:
                raise RacpTimeoutError("the glucometer did not finish sending its records") from exc
            finally:
                self._pending = None
        if response.request_op_code != request[0]:
            raise RacpFormatError("RACP response to another request")
        if response.code not in (ResponseCode.SUCCESS, ResponseCode.NO_RECORDS_FOUND):
            raise RacpRefusedError(f"the glucometer refused the request (code {response.code})")
        return response
