"""The record pipeline's worlds (tests/hub/records/world.py), closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol

import pytest

from tests.hub.records.world import World, open_world


class OpenWorld(Protocol):
    def __call__(self, records: str = "") -> Awaitable[World]: ...


@pytest.fixture
async def world_with(tmp_path: Path) -> AsyncIterator[OpenWorld]:
    """``await world_with(records_toml)``: a hub's store and settings with that
    [records...] configuration."""
    opened: list[World] = []

    async def open_one(records: str = "") -> World:
        world = await open_world(tmp_path / f"hub{len(opened)}", records)
        opened.append(world)
        return world

    try:
        yield open_one
    finally:
        for world in opened:
            await world.db.close()
