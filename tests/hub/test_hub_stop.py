"""A hub stops whole even when one step of its shutdown hangs: sockets that do not close
(a loaded machine) used to take the whole bound, and the hub's tasks (the writer's thread
among them) and its router were left running."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from aiohttp import web

import hub.service
from tests.hub.fleet import start_hub, write_hub_config

BOUND_S = 0.5


async def test_tasks_stop_though_the_sockets_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await start_hub(write_hub_config(tmp_path / "hub"))
    runner = running._runner
    assert runner is not None
    real_cleanup = web.AppRunner.cleanup
    tasks = list(running.ctx.tasks._tasks)
    assert any(t.get_name() == "cabin-writes" for t in tasks)
    assert any(t.name == "hub-writer" for t in threading.enumerate())

    async def hangs(self: web.AppRunner) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(hub.service, "SOCKETS_CLOSE_S", BOUND_S)
    monkeypatch.setattr(web.AppRunner, "cleanup", hangs)
    try:
        async with asyncio.timeout(BOUND_S + 5):
            await running.stop()
        assert all(t.done() for t in tasks), [t.get_name() for t in tasks if not t.done()]
        assert not any(t.name == "hub-writer" for t in threading.enumerate())
    finally:
        await real_cleanup(runner)
