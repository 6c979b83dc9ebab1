"""The hub's database: one async engine, transactions as context managers.

SQLite (aiosqlite) is the embedded default: WAL, synchronous=FULL, and every
transaction begins IMMEDIATE, so two writers never both read and then collide on
upgrading their lock (which SQLite reports as "database is locked" halfway through).
``read()`` sessions come from a second engine on the same file whose transactions begin
DEFERRED on connections that refuse writes (``PRAGMA query_only``): in WAL a reader takes
no lock, so the queue snapshots, logins and dashboards never wait behind the writer nor
hold it back (with IMMEDIATE everywhere they did: bench/bench_hub.py).
PostgreSQL (asyncpg) is the scale-out store; the same code runs on both."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# A writer waits this long for another's transaction: writes take milliseconds, so a
# wait this long means something is stuck.
SQLITE_BUSY_TIMEOUT_MS = 10_000


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            options["pool_size"] = 10
            options["max_overflow"] = 10
            options["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self._read_engine: AsyncEngine | None = None
        if self.is_sqlite:
            _sqlite_transactions(self.engine, begin="BEGIN IMMEDIATE")
            self._read_engine = create_async_engine(url, **options)
            _sqlite_transactions(self._read_engine, begin="BEGIN", query_only=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = (
            self.sessions
            if self._read_engine is None
            else async_sessionmaker(self._read_engine, expire_on_commit=False)
        )

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads (on SQLite a write in it raises): one snapshot."""
        async with self._read_sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not None:
            await self._read_engine.dispose()


def _sqlite_transactions(engine: AsyncEngine, begin: str, query_only: bool = False) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (below) issue BEGIN itself rather than the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if query_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
