"""The cabin gateway's writes to the store: one transaction at a time, each holding the
work that queued while the previous one committed (group commit).

Why: SQLite has one writer, and a transaction holds its lock from BEGIN IMMEDIATE to
COMMIT across one event-loop round trip per statement. With a transaction per cabin frame
(a fleet of 2,000 cabins sends about a hundred a second), transactions begun on several
pooled connections wait for each other in SQLite's busy handler, which sleeps up to 100 ms
between tries: bench/bench_hub.py measured seconds from a frame to its ack, heartbeats
stuck behind them (cabins cut off as silent) and "database is locked" after 10 s. Here the
work queues on the event loop instead and shares the transaction's begin and commit.

Each piece of work runs in turn in the batch's session, in the order it was submitted; its
caller gets the result once the transaction that holds it has committed, so what the
caller does next (an ack, a message to the consoles) still follows the commit. When a piece
raises, the batch is rolled back and each piece runs again in a transaction of its own:
a failure undoes only its own work. Work must therefore touch nothing but the session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.store import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]
# A bound on one transaction's work: a reconnection storm's welcomes still commit in
# steps of this many, each quick enough not to starve the other writers.
MAX_BATCH = 200


class Writes:
    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Work[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self.transactions = 0
        self.pieces = 0

    async def run(self, work: Work[T]) -> T:
        """``work(session)``'s result once committed (its exception if it raised). A
        caller cancelled before its work started leaves it undone."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((work, future))
        return await future

    async def loop(self) -> None:
        """The one writer (a supervised task of the gateway)."""
        batch: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        try:
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                batch = [(work, future) for work, future in batch if not future.done()]
                if batch:
                    await self._commit(batch)
                batch = []
        finally:  # stopping: nobody waits for ever
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for _, future in batch:
                future.cancel()

    async def _commit(self, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        self.transactions += 1
        self.pieces += len(batch)
        try:
            async with self.db.transaction() as s:
                results = [await work(s) for work, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.info("a write of a batch of %d failed (%r): each alone", len(batch), exc)
            for work, future in batch:
                await self._alone(work, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _done(future, result)

    async def _alone(self, work: Work[Any], future: asyncio.Future[Any]) -> None:
        self.transactions += 1
        try:
            async with self.db.transaction() as s:
                result = await work(s)
        except Exception as exc:
            _fail(future, exc)
        else:
            _done(future, result)


def _done(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # else its caller was cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
