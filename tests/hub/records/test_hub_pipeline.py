"""The running hub (hub.service.Hub, as `kiosk hub run` starts it) delivers a completed
record by itself: its worker, built from [records], mails it over STARTTLS and POSTs it to
the FHIR server, each delivery audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.records import completion
from tests.hub.fleet import start_hub, write_hub_config
from tests.hub.records.world import (
    CLIENT_CN,
    GP_ADDRESS,
    FhirServer,
    Relay,
    World,
    audited,
    completed_record,
    fast_worker_toml,
    make_pki,
    seed,
    wait_state,
)
from tests.polling import until


async def test_the_running_hub_delivers_a_completed_record(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    server = FhirServer()
    await server.up()
    try:
        with Relay(pki) as relay:
            records = fast_worker_toml() + relay.toml(pki) + server.toml()
            config = write_hub_config(tmp_path / "hub", extra=records)
            hub = await start_hub(config)
            try:
                world = World(config, hub.settings, hub.db)
                await seed(hub.db, hub.settings)
                consultation_id = await completed_record(world)
                for channel in ("mail", "fhir"):
                    done = await wait_state(world, consultation_id, channel, "delivered", "dead")
                    assert (done.state, done.attempts) == ("delivered", 1)
                entries = await audited(world, "record_delivery", consultation_id)
                assert sorted(e.detail["channel"] for e in entries) == ["fhir", "mail"]
            finally:
                await hub.stop()
            [mail] = await until(relay.inbox.received, what="the mail")
            assert (mail.rcpt_tos, mail.client_cn) == ([GP_ADDRESS], CLIENT_CN)
    finally:
        await server.down()
    assert (server.posts, len(server.stored)) == (1, 1)


async def test_a_record_completed_is_sent_at_once_not_at_the_next_round(tmp_path: Path) -> None:
    """The worker wakes on the commit that completed the record: with the default 10 s
    between rounds, the mail is there well before."""
    pki = make_pki(tmp_path / "pki")
    with Relay(pki) as relay:
        config = write_hub_config(tmp_path / "hub", extra=relay.toml(pki))
        hub = await start_hub(config)
        try:
            assert hub.settings.records.delivery_interval_s == 10.0
            world = World(config, hub.settings, hub.db)
            await seed(hub.db, hub.settings)
            await until(lambda: hub.records.rounds >= 1, what="the worker's first round")
            started = asyncio.get_running_loop().time()
            consultation_id = await completed_record(world)
            await wait_state(world, consultation_id, "mail", "delivered", within_s=5.0)
            took = asyncio.get_running_loop().time() - started
        finally:
            await hub.stop()
    assert took < 5.0
    assert len(relay.inbox.received()) == 1


async def test_a_stopped_hub_leaves_no_hook_behind(tmp_path: Path) -> None:
    before = len(completion._completed_hooks)
    hub = await start_hub(write_hub_config(tmp_path / "hub"))
    try:
        await until(lambda: len(completion._completed_hooks) == before + 1, what="the hook")
    finally:
        await hub.stop()
    assert len(completion._completed_hooks) == before
