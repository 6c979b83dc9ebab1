"""The dashboard's view of real cabins (daemons dialling out to a hub in this process):
online and offline since when, lifecycle state, lock, instruments and battery, the live
socket, a hygiene chain received broken, and nothing of a waiting patient anywhere."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from hub.service import Hub
from hub.shared.hygiene_chain import GENESIS_HASH, chain_hash
from hub.store.models import WaitingPatientRow
from kiosk.lifecycle import State
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import Console, add_person, check_in
from tests.hub.test_fleet_support import assert_no_patient, feed, row_cabin, status
from tests.polling import until


def cabin_in(fleet: dict[str, Any], cabin_id: str) -> dict[str, Any]:
    for site in fleet["sites"]:
        for cabin in site["cabins"]:
            if cabin["id"] == cabin_id:
                assert cabin["site_code"] == site["code"]
                return cabin
    raise AssertionError(f"{cabin_id} not on the dashboard")


class Dashboard:
    """A technician's dashboard socket, read from Python."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.messages: list[dict[str, Any]] = []
        self.cabins: dict[str, dict[str, Any]] = {}
        self.alerts: list[dict[str, Any]] = []
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        c = self.console
        self.ws = await c.http.ws_connect(c.url + "/fleet/ws", headers=c.origin)
        self._reader = asyncio.create_task(self._read(), name="test-fleet-dashboard")

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                self.messages.append(data)
                if data["type"] == "fleet":
                    self.cabins = {c["id"]: c for s in data["sites"] for c in s["cabins"]}
                elif data["type"] == "cabins":
                    self.cabins.update({c["id"]: c for c in data["cabins"]})
                if "alerts" in data:
                    self.alerts = data["alerts"]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


async def test_real_cabins_on_the_dashboard(hub: Hub, make_cabin: MakeCabin) -> None:
    started = datetime.now(UTC)
    nangis = await make_cabin("nangis-01", "NAN231")
    await make_cabin("chelles-01", "CHE132")
    await until(lambda: len(hub.gateway.connections) == 2, what="both cabins connected")
    tech = Console(str(hub.url), "tech")
    try:
        await tech.login()

        async def with_status() -> dict[str, Any] | None:
            code, fleet = await tech.get("/api/v1/fleet")
            assert code == 200, fleet
            cabins = [cabin_in(fleet, c) for c in ("nangis-01", "chelles-01")]
            ok = all(c["state"] and c["instruments"] for c in cabins)
            return fleet if ok else None

        fleet = await until(with_status, what="both cabins' status on the dashboard")
        assert [s["code"] for s in fleet["sites"]] == ["NAN231", "CHE132"]
        assert fleet["sites"][0]["name"] == "Centre médico-social de Nangis"
        assert fleet["viewer"] == {"username": "tech", "audit": False}
        cabin = cabin_in(fleet, "nangis-01")
        assert cabin["connection"]["online"] is True
        assert cabin["connection"]["label"] == "en ligne"
        assert datetime.fromisoformat(cabin["connection"]["since"]) >= started
        assert cabin["state"]["code"] == "idle" and cabin["state"]["label"] == "Libre"
        assert cabin["state"]["locked"] is False
        (tensio,) = cabin["instruments"]
        assert tensio["name"] == "tensiometre" and tensio["kind_label"] == "tensiomètre"
        assert tensio["battery_percent"] == 87 and tensio["battery_low"] is False
        assert cabin["software_version"]
        assert cabin["hygiene_chain"] == {
            "ok": True,
            "label": "vérifiée",
            "problem": None,
            "entries": 0,
        }
        assert fleet["alerts"] == [] and cabin["alerts"] == []

        # The live socket: the whole fleet first, then a change as it happens.
        dashboard = Dashboard(tech)
        await dashboard.open()
        try:
            await until(lambda: "nangis-01" in dashboard.cabins, what="the fleet message")
            assert nangis.ctx is not None
            nangis.ctx.lifecycle.transition(State.OUT_OF_SERVICE, "test: lock jammed")
            await until(
                lambda: (
                    (dashboard.cabins["nangis-01"]["state"] or {}).get("code") == "out_of_service"
                ),
                what="out of service, live",
            )
            shown = dashboard.cabins["nangis-01"]["state"]
            assert shown["label"] == "Hors service" and shown["locked"] is True

            # The cabin stops: offline since it went, live and in the API.
            before_stop = datetime.now(UTC)
            await nangis.stop()
            make_cabin.started.remove(nangis)
            await until(
                lambda: not dashboard.cabins["nangis-01"]["connection"]["online"],
                what="offline, live",
            )
            gone = dashboard.cabins["nangis-01"]["connection"]
            assert gone["label"] == "hors ligne"
            assert datetime.fromisoformat(gone["since"]) >= before_stop
            _, fleet = await tech.get("/api/v1/fleet")
            assert cabin_in(fleet, "nangis-01")["connection"] == gone
            assert cabin_in(fleet, "chelles-01")["connection"]["online"] is True
        finally:
            await dashboard.close()
        assert dashboard.messages[0]["type"] == "fleet"
        assert dashboard.messages[0]["viewer"]["username"] == "tech"
    finally:
        await tech.close()


async def test_nothing_of_a_waiting_patient(
    hub: Hub, make_cabin: MakeCabin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub.fleet")
    nangis = await make_cabin("nangis-01", "NAN231")
    await until(lambda: len(hub.gateway.connections) == 1, what="the cabin connected")
    tech = Console(str(hub.url), "tech")
    dashboard = Dashboard(tech)
    try:
        await tech.login()
        await dashboard.open()
        await check_in(nangis, "Hélène", "Dupont")

        async def waiting() -> WaitingPatientRow | None:
            async with hub.db.read() as s:
                return await s.scalar(select(WaitingPatientRow))

        patient = await until(waiting, what="the patient in the hub's queue")
        await until(
            lambda: (
                (dashboard.cabins.get("nangis-01", {}).get("state") or {}).get("code") == "waiting"
            ),
            what="the cabin waiting, live",
        )
        assert dashboard.cabins["nangis-01"]["state"]["label"] == "Patient en attente du médecin"
        _, fleet = await tech.get("/api/v1/fleet")
        secrets = ("Hélène", "Dupont", "1948", patient.given_name, patient.session_id)
        if patient.reason:
            secrets += (patient.reason,)
        assert_no_patient(fleet, *secrets)
        for message in dashboard.messages:
            assert_no_patient(message, *secrets)
        assert cabin_in(fleet, "nangis-01")["state"]["code"] == "waiting"

        # The booth fails while the patient waits: the alert names the cabin, not them.
        assert nangis.ctx is not None
        nangis.ctx.lifecycle.transition(State.OUT_OF_SERVICE, "test: door sensor")
        await until(
            lambda: any(a["kind"] == "out_of_service" for a in dashboard.alerts),
            what="the alert, live",
        )
        _, fleet = await tech.get("/api/v1/fleet")
        shown = [(a["key"], a["message"]) for a in dashboard.alerts]
        assert fleet["alerts"] and [(a["key"], a["message"]) for a in fleet["alerts"]] == shown
        assert_no_patient(fleet, *secrets)
        for message in dashboard.messages:
            assert_no_patient(message, *secrets)
        fleet_logs = [r.getMessage() for r in caplog.records if r.name.startswith("hub.fleet")]
        assert any("ALERTE out_of_service" in line for line in fleet_logs)
        for word in secrets:
            assert not any(word in line for line in fleet_logs), word
    finally:
        await dashboard.close()
        await tech.close()


async def test_a_broken_hygiene_chain_shows_broken(hub: Hub) -> None:
    await row_cabin(hub, "moret-01")
    first = {"seq": 1, "session_id": "s-1", "ended_at": "2026-03-02T09:00:00+00:00"}
    first_hash = chain_hash(GENESIS_HASH, first)
    await feed(
        hub,
        "moret-01",
        "hygiene_entry",
        {"content": first, "prev_hash": GENESIS_HASH, "hash": first_hash},
    )
    tech = Console(str(hub.url), "tech")
    try:
        await tech.login()
        _, fleet = await tech.get("/api/v1/fleet")
        chain = cabin_in(fleet, "moret-01")["hygiene_chain"]
        assert chain == {"ok": True, "label": "vérifiée", "problem": None, "entries": 1}
        assert cabin_in(fleet, "moret-01")["connection"]["label"] == "jamais connectée"

        # Entry 2 as the cabin hashed it, then its content changed on the way.
        second = {"seq": 2, "session_id": "s-2", "ended_at": "2026-03-02T10:00:00+00:00"}
        second_hash = chain_hash(first_hash, second)
        tampered = {**second, "session_id": "s-9"}
        await feed(
            hub,
            "moret-01",
            "hygiene_entry",
            {"content": tampered, "prev_hash": first_hash, "hash": second_hash},
        )
        _, fleet = await tech.get("/api/v1/fleet")
        chain = cabin_in(fleet, "moret-01")["hygiene_chain"]
        assert chain["ok"] is False and chain["label"] == "ROMPUE"
        assert chain["problem"] == "entry 2: its content does not match its hash"
        assert chain["entries"] == 2

        await hub.alerts.check()
        _, fleet = await tech.get("/api/v1/fleet")
        (alert,) = cabin_in(fleet, "moret-01")["alerts"]
        assert alert["kind"] == "hygiene_chain" and alert["severity"] == "critical"
        assert alert["label"] == "Journal d'hygiène rompu"
        assert "ne se vérifie plus" in alert["message"]
        assert fleet["alerts"] == [alert]
    finally:
        await tech.close()


async def test_a_technician_sees_the_sites_they_serve(hub: Hub) -> None:
    await add_person(hub.db, "tech.nangis", roles=["technician"], sites=["NAN231"])
    await row_cabin(hub, "nangis-01", "NAN231")
    await row_cabin(hub, "chelles-01", "CHE132")
    await feed(hub, "chelles-01", "status", status("out_of_service"))
    await hub.alerts.check()
    local = Console(str(hub.url), "tech.nangis")
    try:
        await local.login()
        _, fleet = await local.get("/api/v1/fleet")
        assert [s["code"] for s in fleet["sites"]] == ["NAN231"]
        assert [c["id"] for c in fleet["sites"][0]["cabins"]] == ["nangis-01"]
        assert fleet["alerts"] == []  # Chelles' alert is not theirs
    finally:
        await local.close()
    everyone = Console(str(hub.url), "tech")
    try:
        await everyone.login()
        _, fleet = await everyone.get("/api/v1/fleet")
        assert [s["code"] for s in fleet["sites"]] == ["NAN231", "CHE132"]
        assert [a["cabin_id"] for a in fleet["alerts"]] == ["chelles-01"]
    finally:
        await everyone.close()
