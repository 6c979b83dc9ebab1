"""Helpers for the writer's hot paths, which write with Core statements (one round trip
each) inside an ORM session: what the session holds is flushed first, so that its
pending changes land before the statement and not after it, and the session's copy of
the row the statement changed is dropped, so that a later read in the same transaction
sees the row as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Table
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


async def execute(session: AsyncSession, statement: Executable) -> CursorResult[Any]:
    """Run a Core statement on the session's connection, after a flush."""
    await session.flush()
    connection = await session.connection()
    return await connection.execute(statement)


def forget(session: AsyncSession, model: type[Any], key: Any) -> None:
    """Drop the session's copy of the ``model`` row of primary key ``key``, if it has one."""
    held = session.identity_map.get(session.sync_session.identity_key(model, key))
    if held is not None:
        session.expunge(held)


def table_of(model: type[Any]) -> Table:
    """The mapped class's table, for Core statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
