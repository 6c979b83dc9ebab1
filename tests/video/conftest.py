"""Fixtures for the call tests: a hub and a cabin daemon (both in this process), the cabin
enrolled at the hub, and a patient checked in to wait for the doctor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aioice.ice
import pytest

from hub.service import Hub
from kiosk.component import Context
from kiosk.daemon import Daemon
from tests.hub.conftest import standard_accounts
from tests.hub.fleet import Cabins, check_in, start_hub, write_hub_config

CALL_TOML = """
[[instruments]]
name = "tensiometre"
kind = "blood_pressure"
transport = "simulated"

[call]
doctor_absent_timeout_s = {absent}

[call.camera]
width = {width}
height = {height}
fps = 15
{exam}
"""

EXAM_CAMERA = """
[call.exam_camera]
width = 320
height = 240
fps = 10
"""


class RunningCabin:
    def __init__(self, daemon: Daemon, ctx: Context, hub: Hub) -> None:
        self.daemon = daemon
        self.ctx = ctx
        self.hub = hub
        assert daemon.url is not None and hub.url is not None
        self.url = daemon.url
        self.hub_url = hub.url

    async def patient_waiting(self) -> None:
        """A patient checks in (with a booking pushed to the cabin) and waits."""
        await check_in(self.daemon)


MakeCabin = Callable[..., Awaitable[RunningCabin]]


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of host candidates: an in-process call uses only it."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = await start_hub(write_hub_config(tmp_path / "hub"))
    await standard_accounts(running)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def make_cabin(tmp_path: Path, hub: Hub) -> AsyncIterator[MakeCabin]:
    cabins = Cabins(tmp_path, hub)
    count = 0

    async def make(
        *, absent: int = 300, width: int = 320, height: int = 240, exam: bool = False
    ) -> RunningCabin:
        nonlocal count
        count += 1
        extra = CALL_TOML.format(
            absent=absent, width=width, height=height, exam=EXAM_CAMERA if exam else ""
        )
        daemon = await cabins(f"call-{count:02d}", "NAN231", extra=extra)
        assert daemon.ctx is not None
        return RunningCabin(daemon, daemon.ctx, hub)

    try:
        yield make
    finally:
        await cabins.stop()


@pytest.fixture
async def cabin(make_cabin: MakeCabin) -> RunningCabin:
    return await make_cabin()
