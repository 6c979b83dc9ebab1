"""The record POSTed to a real FHIR endpoint (aiohttp on loopback, conditional create on
the document's identifier): a server down (connection refused), then unavailable (503),
then up stores it exactly once, every attempt counted and audited; a response lost after
the server stored it does not make a second copy; a server that stays down puts the
delivery in the dead-letter list after max_attempts, and a replay delivers it once; over
HTTPS the server's certificate is verified against the configured CA."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle

from hub.records.delivery import DeliveryWorker, dead_letters, replay
from hub.store.models import AuditEntry
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.world import (
    FhirServer,
    audited,
    completed_record,
    delivery,
    fast_worker_toml,
    make_pki,
    running_worker,
    wait_outcomes,
    wait_state,
)
from tests.polling import until


def attempts_audited(entries: list[AuditEntry]) -> list[tuple[int, str, str | None]]:
    return [(e.detail["attempt"], e.detail["state"], e.detail.get("error")) for e in entries]


async def test_down_then_unavailable_then_up_stores_it_once(world_with: OpenWorld) -> None:
    server = FhirServer()
    world = await world_with(fast_worker_toml() + server.toml(max_attempts=50))
    consultation_id = await completed_record(world)
    async with running_worker(world):
        # Nothing listens yet: connection refused, retried.
        await wait_outcomes(world, consultation_id, 2)
        server.fail_with = [503, 503]
        await server.up()
        try:
            done = await wait_state(world, consultation_id, "fhir", "delivered", "dead")
        finally:
            await server.down()
    assert done.state == "delivered" and done.last_error is None
    assert len(server.stored) == 1 and server.posts == 3
    [document] = server.stored.values()
    assert Bundle.model_validate(document).type == "document"

    entries = attempts_audited(await audited(world, "record_delivery", consultation_id))
    assert [n for n, _, _ in entries] == list(range(1, done.attempts + 1))
    # Attempts refused while nothing listened (at least the two waited for; one under way
    # when the server came up may have been either), then the two 503s, then the one.
    refused = done.attempts - 3
    assert refused >= 2
    assert entries[:refused] == [
        (n, "retrying", "serveur FHIR injoignable (ClientConnectorError)")
        for n in range(1, refused + 1)
    ]
    assert entries[refused:] == [
        (refused + 1, "retrying", "serveur FHIR indisponible (HTTP 503)"),
        (refused + 2, "retrying", "serveur FHIR indisponible (HTTP 503)"),
        (refused + 3, "delivered", None),
    ]


async def test_a_lost_response_makes_no_second_copy(world_with: OpenWorld) -> None:
    server = FhirServer()
    world = await world_with(fast_worker_toml() + server.toml())
    consultation_id = await completed_record(world)
    server.lose_next_response = True
    await server.up()
    try:
        async with running_worker(world):
            done = await wait_state(world, consultation_id, "fhir", "delivered", "dead")
    finally:
        await server.down()
    assert (done.state, done.attempts) == ("delivered", 2)
    assert (server.posts, len(server.stored)) == (2, 1)


async def test_a_server_that_stays_down_ends_dead_then_a_replay_delivers_it(
    world_with: OpenWorld,
) -> None:
    server = FhirServer()
    world = await world_with(fast_worker_toml() + server.toml(max_attempts=3))
    consultation_id = await completed_record(world)
    async with running_worker(world) as worker:
        dead = await wait_state(world, consultation_id, "fhir", "dead")
        rounds = worker.rounds
        await until(lambda: worker.rounds > rounds + 2, what="more rounds")
        assert (await delivery(world, consultation_id, "fhir")).attempts == 3  # no more tries
    assert dead.attempts == 3 and dead.next_attempt_at is None
    assert dead.last_error == "serveur FHIR injoignable (ClientConnectorError)"
    async with world.db.read() as s:
        letters = await dead_letters(s)
    assert [(d.consultation_id, d.channel, d.attempts) for d in letters] == [
        (consultation_id, "fhir", 3)
    ]
    states = [state for _, state, _ in attempts_audited(await audited(world, "record_delivery"))]
    assert states == ["retrying", "retrying", "dead"]

    await server.up()
    try:
        async with running_worker(world) as worker:
            async with world.db.transaction() as s:
                await replay(s, dead.id, world.ctx().clock(), actor="tech")
            worker.wake()
            done = await wait_state(world, consultation_id, "fhir", "delivered")
    finally:
        await server.down()
    assert done.attempts == 1
    assert (server.posts, len(server.stored)) == (1, 1)
    [replayed] = await audited(world, "record_delivery_replay")
    assert (replayed.actor, replayed.actor_role, replayed.target) == (
        "tech", "technician", consultation_id,
    )  # fmt: skip
    async with world.db.read() as s:
        assert await dead_letters(s) == []


async def test_over_https_the_server_is_verified_against_the_configured_ca(
    tmp_path: Path, world_with: OpenWorld
) -> None:
    pki = make_pki(tmp_path / "pki")
    server = FhirServer(pki)
    verified = await world_with(server.toml(ca_file=str(pki.ca)))
    unknown = await world_with(server.toml())  # the system's CAs do not know the test CA
    ok_id = await completed_record(verified)
    refused_id = await completed_record(unknown)
    await server.up()
    try:
        assert (await DeliveryWorker(verified.ctx()).deliver_due()).delivered == 1
        assert (await DeliveryWorker(unknown.ctx()).deliver_due()).failed == 1
    finally:
        await server.down()
    assert (await delivery(verified, ok_id, "fhir")).state == "delivered"
    refused = await delivery(unknown, refused_id, "fhir")
    assert refused.state == "retrying"
    assert refused.last_error == "serveur FHIR injoignable (ClientConnectorCertificateError)"
    assert (server.posts, len(server.stored)) == (1, 1)


async def test_two_hub_instances_send_it_once(world_with: OpenWorld) -> None:
    """Two workers on one store (two hub instances) at the same moment: one claims each
    delivery, the other skips it."""
    server = FhirServer()
    world = await world_with(server.toml())
    ids = [await completed_record(world, session_id=f"s-{n}") for n in range(5)]
    await server.up()
    try:
        rounds = await asyncio.gather(
            DeliveryWorker(world.ctx()).deliver_due(), DeliveryWorker(world.ctx()).deliver_due()
        )
    finally:
        await server.down()
    assert sum(r.delivered for r in rounds) == 5 and sum(r.failed for r in rounds) == 0
    assert (server.posts, len(server.stored)) == (5, 5)
    for consultation_id in ids:
        done = await delivery(world, consultation_id, "fhir")
        assert (done.state, done.attempts) == ("delivered", 1)
