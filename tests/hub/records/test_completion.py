"""Completion: the deliveries a complete record gets (mail when the GP gave an MSSanté
address and a relay is configured, FHIR when an endpoint is, the printed copy as the
cabin reported it); a record whose halves do not make one (here the signing doctor's account
lost its RPPS number) is refused once in the audit, not at every round of the worker
that tries it again (every REFUSED_RETRY_S); once the account is put right, the next try
completes it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from hub.records import delivery
from hub.records.delivery import DeliveryWorker
from hub.shared.ins import GeneralPractitioner
from hub.shared.wire import PrintedCopy
from hub.store.models import Account, RecordDelivery
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.world import (
    DOCTOR,
    HUB_ADDRESS,
    FhirServer,
    World,
    audited,
    cabin_part,
    completed_record,
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


@pytest.mark.parametrize(
    ("printed_copy", "state"),
    [("printed", "delivered"), ("declined", "declined"), ("failed", "failed"),
     ("unanswered", "unanswered"), ("not_offered", "not_offered")],
)  # fmt: skip
async def test_the_printed_copy_as_the_cabin_reported_it(
    world_with: OpenWorld, printed_copy: PrintedCopy, state: str
) -> None:
    world = await world_with()  # no relay, no FHIR server: the print only
    consultation_id = await completed_record(world, printed_copy=printed_copy)
    async with world.db.read() as s:
        rows = list(await s.scalars(select(RecordDelivery)))
    assert [(r.consultation_id, r.channel, r.state, r.next_attempt_at) for r in rows] == [
        (consultation_id, "print", state, None)
    ]
    assert (rows[0].delivered_at is not None) == (state == "delivered")


async def test_no_mail_for_a_gp_without_an_mssante_address(world_with: OpenWorld) -> None:
    # A relay configured (nothing listens: nothing is to be sent to it).
    smtp = f'[records.smtp]\nhost = "127.0.0.1"\nfrom_address = "{HUB_ADDRESS}"\n'
    world = await world_with(smtp + FhirServer().toml())
    consultation_id = await open_consultation(world.db)
    gp = GeneralPractitioner(name="Dr Anne Roux", rpps="10003456786")
    part = cabin_part(consultation_id, general_practitioner=gp)
    await receive_part(world, part, part.ended_at)
    await sign(world.db, world.settings, consultation_id, part.ended_at)
    async with world.db.read() as s:
        channels = sorted(await s.scalars(select(RecordDelivery.channel)))
    assert channels == ["fhir", "print"]
    [completed] = await audited(world, "record_completed", consultation_id)
    assert completed.detail["channels"] == ["fhir", "print"]
