"""Fixtures for the call tests: a cabin daemon in this process with a doctor account,
and a patient brought to the waiting room."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aioice.ice
import pytest

from kiosk.component import Context
from kiosk.daemon import Daemon
from kiosk.lifecycle import State
from kiosk.settings import CabinSettings, load_settings
from tests.cabin_toml import base_toml
from video.auth import hash_password

DOCTOR_USER = "dr.martin"
DOCTOR_PASSWORD = "correct horse battery"
# Hashing is slow on purpose: once per test session.
_HASH = hash_password(DOCTOR_PASSWORD)

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
[[call.doctors]]
username = "{user}"
display_name = "Dr Claire Martin"
password_hash = "{hash}"
rpps = "10003456786"
email = "c.martin@example.fr"
"""

EXAM_CAMERA = """
[call.exam_camera]
width = 320
height = 240
fps = 10
"""

MakeSettings = Callable[..., CabinSettings]


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of host candidates: an in-process call uses only it."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    def make(
        *, absent: int = 300, width: int = 320, height: int = 240, exam: bool = False
    ) -> CabinSettings:
        path = tmp_path / "cabin.toml"
        path.write_text(
            base_toml(
                tmp_path / "state",
                cabin_id="call-01",
                name="Cabine d'essai",
                network="ice_servers = []\nice_loopback = true",
            )
            + CALL_TOML.format(
                absent=absent,
                width=width,
                height=height,
                user=DOCTOR_USER,
                hash=_HASH,
                exam=EXAM_CAMERA if exam else "",
            ),
            encoding="utf-8",
        )
        return load_settings(path)

    return make


class RunningCabin:
    def __init__(self, daemon: Daemon, ctx: Context) -> None:
        self.daemon = daemon
        self.ctx = ctx
        assert daemon.url is not None
        self.url = daemon.url

    def patient_waiting(self) -> None:
        lc = self.ctx.lifecycle
        lc.transition(State.CHECK_IN, "test patient")
        lc.transition(State.WAITING, "test patient checked in")


@pytest.fixture
async def cabin(make_settings: MakeSettings) -> AsyncIterator[RunningCabin]:
    daemon = Daemon(make_settings())
    ctx = await daemon.start()
    try:
        yield RunningCabin(daemon, ctx)
    finally:
        await daemon.stop()
