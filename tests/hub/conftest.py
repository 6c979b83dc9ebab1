"""A hub in this process, and cabin daemons (in this process too) enrolled at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aioice.ice
import pytest

from hub.service import Hub
from hub.store import Database, migrate
from tests.hub.fleet import Cabins, add_person, start_hub, write_hub_config

MakeCabin = Cabins


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of host candidates: an in-process call uses only it."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


async def standard_accounts(hub: Hub) -> None:
    await add_person(hub.db, "dr.martin", roles=["doctor"], sites=["NAN231", "CHE132"],
                     name="Dr Claire Martin")  # fmt: skip
    await add_person(hub.db, "dr.bernard", roles=["doctor"], sites=["NAN231"],
                     name="Dr Paul Bernard")  # fmt: skip
    await add_person(hub.db, "dr.chelles", roles=["doctor"], sites=["CHE132"])
    await add_person(hub.db, "tech", roles=["technician"], sites=["*"])


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = await start_hub(write_hub_config(tmp_path / "hub"))
    await standard_accounts(running)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def make_cabin(tmp_path: Path, hub: Hub) -> AsyncIterator[Cabins]:
    cabins = Cabins(tmp_path, hub)
    try:
        yield cabins
    finally:
        await cabins.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated hub database of its own, no hub process around it."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}")
    await migrate.upgrade(db)
    try:
        yield db
    finally:
        await db.close()
