"""The hub's SQLite sessions: a read session never takes the write lock (a reader does
not wait behind the writer, nor hold it back) and refuses to write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hub.store import Database
from hub.store.models import Site

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def test_a_read_goes_on_while_a_write_transaction_is_open(store: Database) -> None:
    db = store
    async with db.transaction() as s:
        s.add(Site(code="NAN231", name="Nangis", updated_at=NOW))
    writer_open = asyncio.Event()
    release = asyncio.Event()

    async def long_writer() -> None:
        async with db.transaction() as s:
            site = await s.get(Site, "NAN231")
            assert site is not None
            site.name = "Nangis (changed)"
            await s.flush()  # holds SQLite's write lock until the commit
            writer_open.set()
            await release.wait()

    writer = asyncio.create_task(long_writer())
    await writer_open.wait()
    async with asyncio.timeout(2.0):  # an IMMEDIATE read would wait 10 s, then fail
        async with db.read() as s:
            names = list(await s.scalars(select(Site.name)))
    assert names == ["Nangis"]  # the last committed state, not the open write's
    release.set()
    await writer
    async with db.read() as s:
        assert list(await s.scalars(select(Site.name))) == ["Nangis (changed)"]


async def test_a_read_session_refuses_to_write(store: Database) -> None:
    db = store
    async with db.read() as s:
        s.add(Site(code="CHE132", name="Chelles", updated_at=NOW))
        with pytest.raises(OperationalError, match="readonly"):
            await s.flush()
    async with db.read() as s:
        assert list(await s.scalars(select(Site.code))) == []
