"""A hub in this process, and cabin daemons (in this process too) enrolled at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aioice.ice
import pytest

from hub.service import Hub
from kiosk.daemon import Daemon
from kiosk.settings import load_settings
from tests.cabin_toml import base_toml
from tests.hub.fleet import add_person, cabin_hub_section, enrol_cabin, start_hub, write_hub_config

CALL = """
[[instruments]]
name = "tensiometre"
kind = "blood_pressure"
transport = "simulated"

[call.camera]
width = 320
height = 240
fps = 15
"""

MakeCabin = Callable[..., Awaitable[Daemon]]


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of host candidates: an in-process call uses only it."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = await start_hub(write_hub_config(tmp_path / "hub"))
    await add_person(running.db, "dr.martin", roles=["doctor"], sites=["NAN231", "CHE132"],
                     name="Dr Claire Martin")  # fmt: skip
    await add_person(running.db, "dr.bernard", roles=["doctor"], sites=["NAN231"],
                     name="Dr Paul Bernard")  # fmt: skip
    await add_person(running.db, "dr.chelles", roles=["doctor"], sites=["CHE132"])
    await add_person(running.db, "tech", roles=["technician"], sites=["*"])
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def make_cabin(tmp_path: Path, hub: Hub) -> AsyncIterator[MakeCabin]:
    started: list[Daemon] = []
    assert hub.url is not None

    async def make(cabin_id: str, site: str, *, enrol: bool = True, extra: str = "") -> Daemon:
        state = tmp_path / cabin_id
        config = tmp_path / f"{cabin_id}.toml"
        config.write_text(
            base_toml(state, cabin_id=cabin_id, network="ice_loopback = true")
            + CALL
            + extra
            + cabin_hub_section(str(hub.url)),
            encoding="utf-8",
        )
        if enrol:
            await enrol_cabin(hub.db, str(hub.url), cabin_id, site, state)
        daemon = Daemon(load_settings(config))
        await daemon.start()
        started.append(daemon)
        return daemon

    yield make
    for daemon in reversed(started):
        await daemon.stop()
