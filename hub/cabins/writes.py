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
a failure undoes only its own work. Work must therefore touch nothing but the session.

The writer runs on an event loop of its own, in a thread, with its own engine on the same
database. Each statement is a round trip to the driver's thread and back through the
writer's loop; on the hub's loop, which carries thousands of sockets, every round trip
waited its turn among their callbacks (bench/bench_hub.py at 2,000 cabins: a few ms each,
so the writer fell behind its ~130 frames/s and acks took seconds). Results and errors
are handed back to the caller's loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.store import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]
Piece = tuple[Work[Any], asyncio.Future[Any]]
# A bound on one transaction's work: a reconnection storm's welcomes still commit in
# steps of this many, each quick enough not to starve the other writers.
MAX_BATCH = 200
STOP = None  # put on the writer's queue: finish what is queued before it, then end


class Writes:
    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self.url = db.url
        self.max_batch = max_batch
        self.transactions = 0
        self.pieces = 0
        self._caller: asyncio.AbstractEventLoop | None = None
        self._writer: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Piece | None] | None = None
        self._ready = threading.Event()
        self._up: asyncio.Event | None = None
        self._stopped = False

    async def run(self, work: Work[T]) -> T:
        """``work(session)``'s result once committed (its exception if it raised). A
        caller cancelled before its work started leaves it undone."""
        if self._up is None:
            self._up = asyncio.Event()
        if not self._stopped:
            await self._up.wait()
        writer, queue = self._writer, self._queue
        if self._stopped or writer is None or queue is None or writer.is_closed():
            raise RuntimeError("the hub's writer is stopped")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        writer.call_soon_threadsafe(queue.put_nowait, (work, future))
        return await future

    async def loop(self) -> None:
        """The writer's thread, started and watched from the hub's loop (a supervised
        task of the gateway); cancelled, it commits what was queued, then ends."""
        self._caller = asyncio.get_running_loop()
        if self._up is None:
            self._up = asyncio.Event()
        ended: asyncio.Future[None] = self._caller.create_future()
        thread = threading.Thread(
            target=self._thread, args=(ended,), name="hub-writer", daemon=True
        )
        self._ready.clear()
        self._stopped = False
        thread.start()
        try:
            await asyncio.to_thread(self._ready.wait)
            if not ended.done():
                self._up.set()
            await asyncio.shield(ended)
        finally:
            self._stopped = True
            self._up.set()  # who waits for the writer learns it is stopped
            writer, queue = self._writer, self._queue
            if writer is not None and queue is not None and not writer.is_closed():
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    writer.call_soon_threadsafe(queue.put_nowait, STOP)
            await asyncio.shield(asyncio.to_thread(thread.join))

    def _thread(self, ended: asyncio.Future[None]) -> None:
        try:
            asyncio.run(self._write_forever())
        except BaseException as exc:  # told to the task that watches the thread
            log.exception("the hub's writer stopped")
            self._tell(_fail, ended, exc)
        else:
            self._tell(_done, ended, None)
        finally:
            self._ready.set()  # also when it failed before it was up

    async def _write_forever(self) -> None:
        db = Database(self.url)
        queue: asyncio.Queue[Piece | None] = asyncio.Queue()
        self._queue, self._writer = queue, asyncio.get_running_loop()
        self._ready.set()
        batch: list[Piece] = []
        try:
            stopping = False
            while not stopping:
                first = await queue.get()
                batch = [] if first is None else [first]
                stopping = first is None
                while len(batch) < self.max_batch and not queue.empty():
                    piece = queue.get_nowait()
                    if piece is None:
                        stopping = True
                        break
                    batch.append(piece)
                batch = [(work, future) for work, future in batch if not future.done()]
                if batch:
                    await self._commit(db, batch)
                batch = []
        finally:  # stopping: nobody waits for ever
            while not queue.empty():
                piece = queue.get_nowait()
                if piece is not None:
                    batch.append(piece)
            for _, future in batch:
                self._tell(_cancel, future)
            await db.close()

    async def _commit(self, db: Database, batch: list[Piece]) -> None:
        self.transactions += 1
        self.pieces += len(batch)
        try:
            async with db.transaction() as s:
                results = [await work(s) for work, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                self._tell(_fail, batch[0][1], exc)
                return
            log.info("a write of a batch of %d failed (%r): each alone", len(batch), exc)
            for work, future in batch:
                await self._alone(db, work, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            self._tell(_done, future, result)

    async def _alone(self, db: Database, work: Work[Any], future: asyncio.Future[Any]) -> None:
        self.transactions += 1
        try:
            async with db.transaction() as s:
                result = await work(s)
        except Exception as exc:
            self._tell(_fail, future, exc)
        else:
            self._tell(_done, future, result)

    def _tell(self, how: Callable[..., None], future: asyncio.Future[Any], *args: Any) -> None:
        """Settle a future of the caller's loop from the writer's thread."""
        caller = self._caller
        if caller is not None and not caller.is_closed():
            with contextlib.suppress(RuntimeError):  # the caller's loop closed meanwhile
                caller.call_soon_threadsafe(how, future, *args)


def _done(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # else its caller was cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _cancel(future: asyncio.Future[Any]) -> None:
    future.cancel()
