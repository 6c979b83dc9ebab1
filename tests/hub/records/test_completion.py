"""Completion: a record whose halves do not make one (here the signing doctor's account
lost its RPPS number) is refused once in the audit, not at every round of the worker
that tries it again (every REFUSED_RETRY_S); once the account is put right, the next try
completes it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from hub.records import delivery
from hub.records.delivery import DeliveryWorker
from hub.store.models import Account
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.world import (
    DOCTOR,
    World,
    audited,
    cabin_part,
    open_consultation,
    receive_part,
    sign,
)


async def set_rpps(world: World, rpps: str | None) -> None:
    async with world.db.transaction() as s:
        await s.execute(update(Account).where(Account.username == DOCTOR).values(rpps=rpps))


async def test_a_record_that_cannot_be_made_is_refused_once(
    world_with: OpenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "REFUSED_RETRY_S", 0.0)  # the audit's check, each round
    world = await world_with()
    consultation_id = await open_consultation(world.db)
    part = cabin_part(consultation_id)
    await receive_part(world, part, part.ended_at)
    await set_rpps(world, None)
    await sign(world.db, world.settings, consultation_id, part.ended_at)
    worker = DeliveryWorker(world.ctx())
    for _ in range(3):
        assert await worker.complete_ready() == 0
    [refused] = await audited(world, "record_completed", consultation_id)
    assert refused.outcome == "refused"
    assert refused.detail == {"problems": ["practitioner.rpps"]}

    await set_rpps(world, "10003456786")
    assert await worker.complete_ready() == 1
    entries = await audited(world, "record_completed", consultation_id)
    assert [e.outcome for e in entries] == ["refused", "ok"]
    assert await worker.complete_ready() == 0


async def test_the_worker_tries_a_refused_record_again_later_only(world_with: OpenWorld) -> None:
    world = await world_with()
    consultation_id = await open_consultation(world.db)
    part = cabin_part(consultation_id)
    await receive_part(world, part, part.ended_at)
    await set_rpps(world, None)
    await sign(world.db, world.settings, consultation_id, part.ended_at)
    worker = DeliveryWorker(world.ctx())
    assert await worker.complete_ready() == 0
    await set_rpps(world, "10003456786")
    assert await worker.complete_ready() == 0  # within REFUSED_RETRY_S: not looked at
    worker._refused_at.clear()  # as REFUSED_RETRY_S later
    assert await worker.complete_ready() == 1
    assert [e.outcome for e in await audited(world, "record_completed", consultation_id)] == [
        "refused", "ok",
    ]  # fmt: skip
