"""What the soak (bench/bench_soak.py) reads from a running daemon, and the leaks it found,
each pinned by a test here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from kiosk.bus import EventBus
from kiosk.daemon import Daemon
from kiosk.db import Transaction
from kiosk.lifecycle import Lifecycle, LifecycleStore, State
from kiosk.settings import load_settings
from tests.polling import until

from .conftest import WriteConfig

S = State


@pytest.fixture
async def daemon(write_config: WriteConfig) -> AsyncIterator[Daemon]:
    running = Daemon(load_settings(write_config()))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


async def test_metrics_count_every_task_of_the_loop(daemon: Daemon) -> None:
    """kiosk_asyncio_tasks counts the loop's tasks whoever made them (kiosk_tasks_running
    only the supervisor's): a task left behind by aiortc or aiohttp shows in it."""
    assert daemon.url is not None
    async with aiohttp.ClientSession(base_url=daemon.url) as http:
        async with http.get("/metrics") as resp:
            before = gauge(await resp.text(), "kiosk_asyncio_tasks")
        stray = [asyncio.create_task(asyncio.sleep(60), name="stray") for _ in range(3)]
        try:
            async with http.get("/metrics") as resp:
                text = await resp.text()
        finally:
            for task in stray:
                task.cancel()
            await asyncio.gather(*stray, return_exceptions=True)
    assert gauge(text, "kiosk_asyncio_tasks") == before + 3
    assert gauge(text, "kiosk_tasks_running") < gauge(text, "kiosk_asyncio_tasks")


def test_transitions_purged_with_their_sessions(tmp_path: Path) -> None:
    """The transitions log grew by 7 rows a consultation for ever (the soak: 1,401 after
    200) while the sessions it names were purged after retention.sessions_days."""
    store = LifecycleStore(tmp_path / "cabin.sqlite3")
    lc = Lifecycle(store, EventBus(), is_open=lambda _: True)
    try:
        for _ in range(3):  # three patients, each disinfected
            for target in (S.CHECK_IN, S.AWAITING_DISINFECTION, S.CLEANING):
                lc.transition(target, "test")
            session = store.undisinfected_session()
            assert session is not None
            with Transaction(store.conn) as conn:
                LifecycleStore.mark_disinfected(conn, session, "log-entry", datetime.now(UTC))
            lc.transition(S.IDLE, "test")
        lc.transition(S.CHECK_IN, "the patient of today")  # an open session
        open_session = lc.session_id
        later = datetime.now(UTC) + timedelta(days=31)
        assert store.purge_sessions(later) == 3
        assert store.purge_transitions(later) == 13  # with the first start's
        left = store.conn.execute("SELECT session_id FROM transitions").fetchall()
        assert [r["session_id"] for r in left] == [open_session]
        assert store.purge_transitions(datetime.now(UTC) - timedelta(days=30)) == 0
    finally:
        store.close()


async def test_the_daemon_purges_old_transitions(write_config: WriteConfig) -> None:
    """The retention loop runs at start: a session older than sessions_days and its
    transitions do not survive a start."""
    config = write_config()
    settings = load_settings(config)
    store = LifecycleStore(settings.storage.database)
    old = datetime.now(UTC) - timedelta(days=settings.retention.sessions_days + 1)
    store.write_transition(S.IDLE, S.CHECK_IN, old, "test", "gone", open_session=True)
    store.write_transition(S.CHECK_IN, S.AWAITING_DISINFECTION, old, "test", "gone")
    with Transaction(store.conn) as conn:
        LifecycleStore.mark_disinfected(conn, "gone", "log-entry", old)
    store.write_transition(S.AWAITING_DISINFECTION, S.IDLE, old, "test", None)
    store.close()
    running = Daemon(settings)
    await running.start()
    try:
        assert running.ctx is not None
        store = running.ctx.lifecycle.store
        await until(
            lambda: (
                not store.conn.execute(
                    "SELECT 1 FROM transitions WHERE at <= ?", (old.isoformat(),)
                ).fetchone()
            ),
            10.0,
            "the old transitions purged",
        )
        assert store.session("gone") is None
    finally:
        await running.stop()
