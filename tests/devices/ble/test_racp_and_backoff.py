"""Pure parts of the BLE link: RACP messages and procedure, reconnection backoff."""

from __future__ import annotations

import asyncio

import pytest

from devices.ble import racp
from devices.ble.link import Backoff


def test_racp_requests_follow_the_spec() -> None:
    # op code 1 (report stored records), operator 3 (>=), filter 1 (sequence), uint16 LE
    assert racp.RacpRequest.report_from(0x0102).to_bytes() == bytes((1, 3, 1, 0x02, 0x01))
    assert racp.last_record().to_bytes() == bytes((0x01, 0x06))


def test_glucose_sequence_number_is_after_the_flags() -> None:
    assert racp.glucose_sequence_number(bytes((0x02, 0x2A, 0x01, 0xEA, 0x07))) == 0x012A
    assert racp.glucose_sequence_number(b"\x00\x01") is None


class FakeMeter:
    """The other end of the control point: answers each written request with ``code``."""

    def __init__(self, code: int | bytes | None) -> None:
        self.code = code
        self.procedure = racp.RacpProcedure(self.write)
        self.written: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.written.append(data)
        if self.code is not None:
            response = (
                self.code
                if isinstance(self.code, bytes)
                else racp.ResponseCode(data[0], racp.ResponseValue(self.code)).to_bytes()
            )
            asyncio.get_running_loop().call_soon(self.procedure.on_indication, response)


async def test_racp_procedure_returns_success_and_no_records() -> None:
    request = racp.RacpRequest.report_from(5)
    for code in (racp.ResponseValue.SUCCESS, racp.ResponseValue.NO_RECORDS_FOUND):
        meter = FakeMeter(code)
        assert await meter.procedure.run(request) == racp.ResponseCode(1, code)
        assert meter.written == [request.to_bytes()]


async def test_racp_procedure_refused_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(racp.RacpRefusedError, match="procedure_not_completed"):
        await FakeMeter(racp.ResponseValue.PROCEDURE_NOT_COMPLETED).procedure.run(
            racp.last_record()
        )
    monkeypatch.setattr(racp, "RACP_PROCEDURE_TIMEOUT_S", 0.05)
    with pytest.raises(racp.RacpTimeoutError) as caught:
        await FakeMeter(None).procedure.run(racp.last_record())
    assert isinstance(caught.value, TimeoutError)


async def test_malformed_racp_response_fails_the_procedure() -> None:
    meter = FakeMeter(b"\x06\x01\x01")  # the operator must be null; truncated
    with pytest.raises(racp.RacpFormatError, match="invalid RACP response"):
        await meter.procedure.run(racp.last_record())


def test_unsolicited_racp_indication_is_ignored() -> None:
    FakeMeter(None).procedure.on_indication(b"\x06\x00\x01\x01")


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(first=0.5, cap=30)
    assert [backoff.next_delay() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 0.5
