"""Record Access Control Point (0x2A52): download a glucometer's stored records.

The cabin writes a request ("report stored records with sequence number >= N"); the meter
notifies each record on Glucose Measurement (0x2A18), then indicates a response code on
the control point. One procedure runs at a time (the spec allows no more). The messages
themselves are encoded and decoded by ``devices.gatt.racp``."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable

from devices.gatt.racp import (
    NumberOfRecords,
    OpCode,
    Operator,
    RacpRequest,
    RacpResponse,
    ResponseCode,
    ResponseValue,
    decode_racp_response,
)
from devices.measurement import DecodeError

__all__ = [
    "RACP_PROCEDURE_TIMEOUT_S",
    "NumberOfRecords",
    "RacpError",
    "RacpFormatError",
    "RacpProcedure",
    "RacpRefusedError",
    "RacpRequest",
    "RacpResponse",
    "RacpTimeoutError",
    "ResponseCode",
    "ResponseValue",
    "glucose_sequence_number",
    "last_record",
]

# A meter sends its whole memory before the final response (hundreds of records at
# a 7.5-50 ms connection interval): 30 s is generous without hanging a consultation.
RACP_PROCEDURE_TIMEOUT_S = 30.0


class RacpError(Exception):
    """Root of this module's errors."""


class RacpTimeoutError(RacpError, TimeoutError):
    """The meter did not finish the procedure in time (retry after reconnecting)."""


class RacpRefusedError(RacpError):
    """The meter answered with an error response code."""


class RacpFormatError(RacpError, ValueError):
    """A control point indication that is not a valid RACP response."""


def last_record() -> RacpRequest:
    """Request: the most recent stored record only."""
    return RacpRequest(OpCode.REPORT_STORED_RECORDS, Operator.LAST)


def glucose_sequence_number(measurement: bytes) -> int | None:
    """The sequence number of a Glucose Measurement value (always after the flags byte)."""
    if len(measurement) < 3:
        return None
    number: int = struct.unpack_from("<H", measurement, 1)[0]
    return number


class RacpProcedure:
    """Runs RACP requests over a connected link, one at a time.

    The link forwards every control point indication to ``on_indication``; ``run``
    writes a request and waits for its final response."""

    def __init__(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        self._write = write
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[RacpResponse] | None = None

    def on_indication(self, data: bytes) -> None:
        pending = self._pending
        if pending is None or pending.done():
            return  # a late or unsolicited response: nothing waits for it
        try:
            pending.set_result(decode_racp_response(data))
        except DecodeError as exc:
            pending.set_exception(RacpFormatError(f"invalid RACP response: {exc}"))

    async def run(self, request: RacpRequest) -> RacpResponse:
        """Write ``request``; return the meter's final response: a response code SUCCESS
        or NO_RECORDS_FOUND, or the number of records for a count request.

        Raises RacpRefusedError for any other response code, RacpTimeoutError if none
        comes in time, RacpFormatError for an answer that is not a RACP response."""
        async with self._lock:
            self._pending = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(RACP_PROCEDURE_TIMEOUT_S):
                    await self._write(request.to_bytes())
                    response = await self._pending
            except TimeoutError as exc:
                raise RacpTimeoutError("the glucometer did not finish the procedure") from exc
            finally:
                self._pending = None
        if isinstance(response, NumberOfRecords):
            return response
        if response.request_op != request.op:
            raise RacpFormatError("RACP response to another request")
        if response.value not in (ResponseValue.SUCCESS, ResponseValue.NO_RECORDS_FOUND):
            raise RacpRefusedError(
                f"the glucometer refused the request ({response.value.name.lower()})"
            )
        return response
