"""The serial badge reader on a pseudo-terminal: one UID per line logs the referent in;
garbage and unknown badges change nothing."""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import Iterator

import pytest

from hygiene.badge import parse_uid
from kiosk.lifecycle import State, StateChanged

from .conftest import Cabin, MakeCabin

# The reader task sees a line written to the pty at once; bound the wait anyway.
LOGIN_TIMEOUT_S = 5.0


def test_parse_uid() -> None:
    assert parse_uid(b"04a1b2c3d4") == "04A1B2C3D4"
    assert parse_uid(b" 04:A1:B2:C3 ") == "04:A1:B2:C3"
    assert parse_uid(b"\xff\xfe") is None
    assert parse_uid(b"x") is None
    assert parse_uid(b"04A1; DROP TABLE") is None


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(master)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


async def test_badge_on_the_serial_reader_logs_in(
    make_cabin: MakeCabin, pty_pair: tuple[int, str]
) -> None:
    master, port = pty_pair
    cabin: Cabin = await make_cabin(extra=f'\n[hygiene]\nbadge_reader_port = "{port}"\n')
    cabin.patient_session()
    changes = cabin.ctx.bus.subscribe(StateChanged)
    # Garbage, then an unknown badge, then the referent's (lower case, CRLF).
    os.write(master, b"\x00\xff~~\r\nFFFF0000\r\n04a1b2c3d4\r\n")
    async with asyncio.timeout(LOGIN_TIMEOUT_S):
        while (await changes.get()).state is not State.CLEANING:
            pass
    assert cabin.component.flow.cleaning is not None
    assert cabin.component.flow.cleaning.referent.id == "amelie"
    # The unknown badge counted as one wrong attempt; the good one then reset the count.
    assert cabin.component.flow.lockout.locked_until("referent") is None
    changes.close()
