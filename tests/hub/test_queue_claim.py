"""Cabins dial out to the hub; doctors see the waiting patients of their sites and take
one: two doctors at once get one consultation and one "already taken"; another site's
patient is refused; both refusals are audited."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from hub.service import Hub
from hub.store.models import AuditEntry, Cabin
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import Console, check_in
from tests.polling import until


async def queue_of(console: Console, expected: int) -> dict[str, dict[str, Any]]:
    """The console's view of the queue once it holds ``expected`` entries."""
    entries: dict[str, dict[str, Any]] = {}
    first = await console.expect("queue")
    for entry in first["entries"]:
        entries[entry["cabin_id"]] = entry
    async with asyncio.timeout(20):
        while len(entries) < expected:
            msg = await console.inbox.get()
            if msg["type"] == "queue_entry":
                entries[msg["entry"]["cabin_id"]] = msg["entry"]
    return entries


async def test_two_doctors_one_patient(hub: Hub, make_cabin: MakeCabin) -> None:
    nangis = await make_cabin("nangis-01", "NAN231")
    chelles = await make_cabin("chelles-01", "CHE132")
    await until(lambda: len(hub.gateway.connections) == 2, what="both cabins connected")
    await check_in(nangis, "Hélène")
    await check_in(chelles, "Marcel")

    martin = Console(str(hub.url), "dr.martin")
    bernard = Console(str(hub.url), "dr.bernard")
    try:
        await martin.login()
        await bernard.login()
        await martin.connect()
        await bernard.connect()
        seen = await queue_of(martin, 2)
        assert {e["given_name"] for e in seen.values()} == {"Hélène", "Marcel"}
        nan = seen["nangis-01"]
        assert nan["site_code"] == "NAN231" and nan["age"] >= 78 and nan["cabin_online"]
        # dr.bernard serves Nangis only: Marcel never reaches his console.
        bernard_view = await queue_of(bernard, 1)
        assert set(bernard_view) == {"nangis-01"}

        take = {"type": "take", "cabin_id": "nangis-01", "session_id": nan["session_id"]}
        await asyncio.gather(martin.send(take), bernard.send(take))
        outcomes = await asyncio.gather(
            _first_of(martin, "consultation", "error"), _first_of(bernard, "consultation", "error")
        )
        kinds = sorted(o["type"] for o in outcomes)
        assert kinds == ["consultation", "error"], outcomes
        loser = next(o for o in outcomes if o["type"] == "error")
        assert loser["code"] == "already_taken"
        assert "déjà été pris en charge" in loser["message"]
        winner = martin if outcomes[0]["type"] == "consultation" else bernard
        # The cabin answers the doctor's arrival with its state and the patient.
        state = await winner.expect("state")
        assert state["cabin_state"] == "waiting"
        patient = await winner.expect("patient")
        assert patient["patient"]["given_name"] == "Hélène"

        # Another site's patient: refused, and audited.
        marcel = seen["chelles-01"]
        await bernard.send(
            {"type": "take", "cabin_id": "chelles-01", "session_id": marcel["session_id"]}
        )
        refused = await bernard.expect("error")
        assert refused["code"] in ("other_site", "busy")
    finally:
        await martin.close()
        await bernard.close()

    async with hub.db.read() as s:
        claims = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "claim"))).all()
        cabins = (await s.scalars(select(Cabin))).all()
    outcomes_logged = sorted((c.outcome, c.detail.get("reason", "")) for c in claims)
    assert ("ok", "") in outcomes_logged
    assert ("refused", "already_taken") in outcomes_logged
    assert all(c.status is not None for c in cabins), "each cabin's status reached the hub"


async def _first_of(console: Console, *types: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            msg = await console.inbox.get()
            if msg.get("type") in types:
                return msg
