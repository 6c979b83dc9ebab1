"""Pure parts of the BLE link: RACP messages and procedure, reconnection backoff."""

from __future__ import annotations

import asyncio

import pytest

from devices.ble import racp
from devices.ble.link import Backoff


def test_racp_requests_follow_the_spec() -> None:
    # op code 1 (report stored records), operator 3 (>=), filter 1 (sequence), uint16 LE
    assert racp.report_records_from(0x0102) == bytes((0x01, 0x03, 0x01, 0x02, 0x01))
    assert racp.report_last_record() == bytes((0x01, 0x06))
    assert racp.report_all_records() == bytes((0x01, 0x01))
    with pytest.raises(ValueError, match="out of range"):
        racp.report_records_from(0x10000)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x06\x00\x01", b"\x05\x00\x01\x01", b"\x06\x01\x01\x01", b"\x06\x00\x01\x01\x00"],
)
def test_malformed_racp_response_is_refused(data: bytes) -> None:
    with pytest.raises(racp.RacpFormatError):
        racp.Response.from_bytes(data)


def test_glucose_sequence_number_is_after_the_flags() -> None:
    assert racp.glucose_sequence_number(bytes((0x02, 0x2A, 0x01, 0xEA, 0x07))) == 0x012A
    assert racp.glucose_sequence_number(b"\x00\x01") is None


class FakeMeter:
    """The other end of the control point: answers each written request with ``code``."""

    def __init__(self, code: int | None) -> None:
        self.code = code
        self.procedure = racp.RacpProcedure(self.write)
        self.written: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.written.append(data)
        if self.code is not None:
            response = racp.Response(data[0], self.code).to_bytes()
            asyncio.get_running_loop().call_soon(self.procedure.on_indication, response)


async def test_racp_procedure_returns_success_and_no_records() -> None:
    for code in (racp.ResponseCode.SUCCESS, racp.ResponseCode.NO_RECORDS_FOUND):
        meter = FakeMeter(code)
        response = await meter.procedure.run(racp.report_records_from(5))
        assert response.code == code
        assert meter.written == [racp.report_records_from(5)]


async def test_racp_procedure_refused_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(racp.RacpRefusedError, match="code 8"):
        await FakeMeter(racp.ResponseCode.PROCEDURE_NOT_COMPLETED).procedure.run(
            racp.report_last_record()
        )
    monkeypatch.setattr(racp, "RACP_PROCEDURE_TIMEOUT_S", 0.05)
    with pytest.raises(racp.RacpTimeoutError) as caught:
        await FakeMeter(None).procedure.run(racp.report_last_record())
    assert isinstance(caught.value, TimeoutError)


def test_unsolicited_racp_indication_is_ignored() -> None:
    FakeMeter(None).procedure.on_indication(b"\x06\x00\x01\x01")


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(first=0.5, cap=30)
    assert [backoff.next_delay() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next_delay() == 0.5
