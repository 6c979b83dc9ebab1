"""Every change of a delivery's state is in the audit trail, with ids only: made pending
(or delivered, the printed copy) by the completion, each attempt's outcome (retrying,
dead, delivered), a replay back to pending; a permanent refusal (HTTP 400) is dead at
once; an attempt that fails by a bug of the hub's is a failure too (retried, audited,
logged without the record's data), not a delivery left claimed. The states the audit
tells, in order, end in the row's state."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

from hub.records.delivery import DeliveryWorker, Retries, replay
from hub.shared.record import ConsultationRecord
from hub.store.models import AuditEntry, RecordDelivery
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.world import (
    GP_ADDRESS,
    FhirServer,
    Relay,
    World,
    audited,
    completed_record,
    delivery,
    make_pki,
)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def later(self, seconds: float = 1.0) -> None:
        self.now += dt.timedelta(seconds=seconds)


async def told(world: World, consultation_id: str) -> dict[str, list[str]]:
    """Each channel's states as the audit tells them, in order."""
    states: dict[str, list[str]] = {}
    entries: list[AuditEntry] = []
    for action in ("record_completed", "record_delivery", "record_delivery_replay"):
        entries += await audited(world, action, consultation_id)
    for e in sorted(entries, key=lambda e: e.id):
        if e.action == "record_completed":
            for channel in e.detail["channels"]:
                first = "delivered" if channel == "print" else "pending"
                states.setdefault(channel, []).append(first)
        elif e.action == "record_delivery":
            states[e.detail["channel"]].append(e.detail["state"])
        else:
            states[e.detail["channel"]].append("pending")
    return states


def flat(entries: list[AuditEntry]) -> str:
    return " ".join(f"{e.target} {e.detail}" for e in entries)


async def test_every_state_change_is_audited(tmp_path: Path, world_with: OpenWorld) -> None:
    pki = make_pki(tmp_path / "pki")
    server = FhirServer()
    with Relay(pki) as relay:
        world = await world_with(relay.toml(pki) + server.toml(max_attempts=2))
        consultation_id = await completed_record(world)
        clock = Clock()
        ctx = world.ctx()
        ctx.clock = clock
        worker = DeliveryWorker(ctx)
        first = await worker.deliver_due()  # mail delivered, FHIR refused (nothing listens)
        clock.later()
        second = await worker.deliver_due()  # FHIR refused again: dead
        assert (first.delivered, first.failed, second.failed) == (1, 1, 1)
        fhir = await delivery(world, consultation_id, "fhir")
        assert fhir.state == "dead"
        async with world.db.transaction() as s:
            await replay(s, fhir.id, clock(), actor="tech")
        await server.up()
        try:
            assert (await worker.deliver_due()).delivered == 1
        finally:
            await server.down()

    states = await told(world, consultation_id)
    assert states == {
        "mail": ["pending", "delivered"],
        "fhir": ["pending", "retrying", "dead", "pending", "delivered"],
        "print": ["delivered"],
    }
    for channel, said in states.items():
        assert (await delivery(world, consultation_id, channel)).state == said[-1]
    entries = await audited(world, "record_delivery", consultation_id)
    assert [e.outcome for e in entries] == ["ok", "refused", "refused", "ok"]
    assert all((e.actor, e.actor_role) == ("hub", "system") for e in entries)
    text = flat(entries + await audited(world, "record_completed"))
    for word in (GP_ADDRESS, "Dupont", "Hélène", "1948"):
        assert word not in text


async def test_a_permanent_refusal_is_dead_at_once(world_with: OpenWorld) -> None:
    server = FhirServer()
    world = await world_with(server.toml(max_attempts=20))
    consultation_id = await completed_record(world)
    server.fail_with = [400]
    await server.up()
    try:
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
    finally:
        await server.down()
    assert outcome.failed == 1
    fhir = await delivery(world, consultation_id, "fhir")
    assert (fhir.state, fhir.attempts, fhir.next_attempt_at) == ("dead", 1, None)
    assert fhir.last_error == "document refusé par le serveur FHIR (HTTP 400)"
    [entry] = await audited(world, "record_delivery", consultation_id)
    detail: dict[str, Any] = entry.detail
    assert (entry.outcome, detail["state"], detail["attempt"]) == ("refused", "dead", 1)


class Broken:
    """A channel with a bug: its exception's text quotes the record."""

    name = "fhir"

    def __init__(self, retries: Retries) -> None:
        self.retries = retries

    async def send(self, record: ConsultationRecord, delivery: RecordDelivery) -> None:
        raise RuntimeError(f"cannot send for {record.patient.birth_name}")


async def test_a_bug_in_a_channel_is_a_failure_not_a_stuck_delivery(
    world_with: OpenWorld, caplog: pytest.LogCaptureFixture
) -> None:
    server = FhirServer()
    world = await world_with(server.toml(max_attempts=2))
    consultation_id = await completed_record(world)
    clock = Clock()
    ctx = world.ctx()
    ctx.clock = clock
    worker = DeliveryWorker(ctx, channels=[Broken(world.settings.records.fhir)])
    with caplog.at_level(logging.INFO):
        assert (await worker.deliver_due()).failed == 1
        clock.later()
        assert (await worker.deliver_due()).failed == 1
    fhir = await delivery(world, consultation_id, "fhir")
    assert (fhir.state, fhir.attempts) == ("dead", 2)
    assert fhir.last_error == "erreur interne du hub (RuntimeError)"
    states = (await told(world, consultation_id))["fhir"]
    assert states == ["pending", "retrying", "dead"]
    assert "internal error RuntimeError at test_delivery_audit.py:" in caplog.text
    assert "Dupont" not in caplog.text
