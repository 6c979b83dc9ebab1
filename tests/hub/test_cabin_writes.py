"""The cabin gateway's writer (hub/cabins/writes.py): pieces of work share a transaction,
each caller gets its own result after the commit, a failing piece undoes only itself, and
the work runs on the writer's own loop and thread, not on the hub's (whose sockets'
callbacks each statement's round trip would otherwise wait behind)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cabins import ingest
from hub.cabins.writes import Writes
from hub.console.queue import update_waiting
from hub.service import Hub
from hub.shared import wire
from hub.store import Database
from hub.store.models import Site, WaitingPatientRow
from tests.hub.test_fleet_support import row_cabin

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
TAKEN = "in_consultation"  # the patient leaves the queue; no query follows in the event


async def names(db: Database) -> list[str]:
    async with db.read() as s:
        return sorted(await s.scalars(select(Site.code)))


async def test_pieces_commit_together_and_a_failure_undoes_only_itself(store: Database) -> None:
    db = store
    writes = Writes(db)
    writer = asyncio.create_task(writes.loop())
    threads: set[int] = set()

    def adding(code: str, fail: bool = False):  # type: ignore[no-untyped-def]
        async def work(s: AsyncSession) -> str:
            threads.add(threading.get_ident())
            s.add(Site(code=code, name=code, updated_at=NOW))
            await s.flush()
            if fail:
                raise ValueError(f"{code} refused")
            return code

        return work

    try:
        results = await asyncio.gather(
            writes.run(adding("A")),
            writes.run(adding("B", fail=True)),
            writes.run(adding("C")),
            return_exceptions=True,
        )
        assert results[0] == "A" and results[2] == "C"
        assert isinstance(results[1], ValueError) and str(results[1]) == "B refused"
        assert await names(db) == ["A", "C"]
        assert threads and threading.get_ident() not in threads  # the writer's own thread
        assert writes.pieces >= 3
    finally:
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
    with pytest.raises(RuntimeError, match="stopped"):
        async with asyncio.timeout(1):
            await writes.run(adding("D"))


def waiting(session_id: str | None, at: datetime) -> wire.WaitingPatientFrame:
    patient = None
    if session_id is not None:
        patient = wire.WaitingPatient(given_name="Jeanne", age=70, waiting_since=at)
    return wire.WaitingPatientFrame(type="waiting_patient", session_id=session_id, patient=patient)


def event(seq: int, session_id: str, state: str, at: datetime) -> wire.OutboxItem:
    payload = {"session_id": session_id, "state": state, "previous": "waiting", "at": at}
    return wire.OutboxItem(
        type="outbox", seq=seq, key=f"event-key-{seq}", kind="session_event", created_at=at,
        payload=wire.SessionEvent.model_validate(payload).model_dump(mode="json"),
    )  # fmt: skip


async def waiting_session(hub: Hub) -> str | None:
    async with hub.db.read() as s:
        row = await s.get(WaitingPatientRow, "nangis-01")
        return None if row is None else row.session_id


async def test_statements_and_orm_pieces_in_one_batch_see_each_others_rows(hub: Hub) -> None:
    """The waiting patient is written with Core statements and removed by the ORM when a
    session event says they left; in one batch's transaction, neither may act on a stale
    copy of the row (the next patient's row deleted, or the last one's kept)."""
    await row_cabin(hub, "nangis-01")
    t0 = hub.ctx.clock()
    at = [t0 + timedelta(seconds=i) for i in range(5)]
    async with hub.db.transaction() as s:
        await update_waiting(s, "nangis-01", "NAN231", "Nangis", waiting("s1", at[0]))
        left = await ingest.apply_item(s, "nangis-01", event(1, "s1", TAKEN, at[1]), at[1])
        assert left.queue_removed  # the ORM sees the row the statement inserted
        await update_waiting(s, "nangis-01", "NAN231", "Nangis", waiting("s2", at[2]))
    assert await waiting_session(hub) == "s2"  # the ORM's delete did not land after it
    async with hub.db.transaction() as s:
        early = await ingest.apply_item(s, "nangis-01", event(2, "s1", "idle", at[2]), at[2])
        assert not early.queue_removed  # s2 waits: an event of s1 removes nothing
        held = await s.get(WaitingPatientRow, "nangis-01")  # as a piece holding it would
        assert held is not None and held.session_id == "s2"
        await update_waiting(s, "nangis-01", "NAN231", "Nangis", waiting("s3", at[3]))
        again = await s.get(WaitingPatientRow, "nangis-01")
        assert again is not None and again.session_id == "s3"  # not the session's old copy
        gone = await ingest.apply_item(s, "nangis-01", event(3, "s3", TAKEN, at[4]), at[4])
        assert gone.queue_removed  # s3's row, not the copy of s2's loaded before
    assert await waiting_session(hub) is None
