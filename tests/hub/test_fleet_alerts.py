"""Each alert rule through the hub: raised once per occurrence (one row, however many
checks), cleared when its condition ends, raised again only for a new occurrence; "over
N minutes" with the hub's clock moved, never waited for. Real cabins where a cabin can
do it here (offline, out of service, awaiting disinfection, a battery running down), the
hub's ingest for the printer (no CUPS in these tests)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import event, select

from hub.cabins import enrolment
from hub.fleet import view
from hub.fleet.alerts import Changes
from hub.service import Hub
from hub.store.models import Alert, Cabin
from kiosk.daemon import Daemon
from kiosk.events import MeasurementRequested
from kiosk.lifecycle import State
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import check_in
from tests.hub.test_fleet_support import (
    ShiftedClock,
    alerts_of,
    feed,
    row_cabin,
    status,
)
from tests.polling import until


async def cabin_row(hub: Hub, cabin_id: str) -> Cabin:
    async with hub.db.read() as s:
        cabin = await s.get(Cabin, cabin_id)
    assert cabin is not None
    return cabin


async def hub_state(hub: Hub, cabin_id: str) -> str | None:
    status = (await cabin_row(hub, cabin_id)).status
    return None if status is None else str(status["state"])


async def reaches(hub: Hub, cabin_id: str, state: str) -> None:
    async def there() -> bool:
        return await hub_state(hub, cabin_id) == state

    await until(there, what=f"{cabin_id}'s status {state} at the hub")


def open_ones(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.cleared_at is None]


async def test_out_of_service_raised_once_cleared_then_a_new_occurrence(
    hub: Hub, make_cabin: MakeCabin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.fleet")
    nangis = await make_cabin("nangis-01", "NAN231")
    await reaches(hub, "nangis-01", "idle")
    assert nangis.ctx is not None
    lifecycle = nangis.ctx.lifecycle
    lifecycle.transition(State.OUT_OF_SERVICE, "test: printer cover open")
    first_since = lifecycle.since
    await reaches(hub, "nangis-01", "out_of_service")
    for _ in range(3):
        await hub.alerts.check()
    (alert,) = await alerts_of(hub, "nangis-01")
    assert alert.kind == "out_of_service" and alert.cleared_at is None
    assert alert.key == f"out_of_service:nangis-01@{first_since.isoformat()}"
    assert alert.message.startswith("Centre médico-social de Nangis — cabine nangis-01 : hors")

    # No webhook configured: the alert is written to the log, once, and counts as sent.
    async def sent() -> bool:
        return all(a.sent_at is not None for a in await alerts_of(hub))

    await until(sent, what="the alert delivered to the log")
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERTE")]
    assert logged == [f"ALERTE out_of_service nangis-01: {alert.message}"]

    lifecycle.transition(State.IDLE, "test: repaired")
    await reaches(hub, "nangis-01", "idle")
    await hub.alerts.check()
    (cleared,) = await alerts_of(hub, "nangis-01")
    assert cleared.cleared_at is not None

    lifecycle.transition(State.OUT_OF_SERVICE, "test: again")
    await reaches(hub, "nangis-01", "out_of_service")
    await hub.alerts.check()
    await hub.alerts.check()
    alerts = await alerts_of(hub, "nangis-01")
    assert len(alerts) == 2 and [a.id for a in open_ones(alerts)] == [alerts[1].id]
    assert alerts[1].key == f"out_of_service:nangis-01@{lifecycle.since.isoformat()}"


async def test_offline_over_n_minutes(hub: Hub, make_cabin: MakeCabin) -> None:
    clock = ShiftedClock()
    hub.ctx.clock = clock
    nangis = await make_cabin("nangis-01", "NAN231")
    await reaches(hub, "nangis-01", "idle")
    await nangis.stop()
    make_cabin.started.remove(nangis)

    async def offline() -> bool:
        return not (await cabin_row(hub, "nangis-01")).online

    await until(offline, what="the cabin offline at the hub")
    offline_since = (await cabin_row(hub, "nangis-01")).offline_since
    assert offline_since is not None
    await hub.alerts.check()
    clock.advance(minutes=9, seconds=50)  # the default: 10 minutes
    await hub.alerts.check()
    assert await alerts_of(hub) == []

    clock.advance(seconds=11)
    await hub.alerts.check()
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.kind == "offline"
    assert alert.key == f"offline:nangis-01@{offline_since.isoformat()}"
    assert "hors ligne depuis 10 min" in alert.message

    # Back online: cleared.
    await make_cabin("nangis-01", "NAN231", enrol=False)
    await reaches(hub, "nangis-01", "idle")

    async def online() -> bool:
        return (await cabin_row(hub, "nangis-01")).online

    await until(online, what="the cabin back online at the hub")
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.cleared_at is not None


async def test_awaiting_disinfection_over_n_minutes(hub: Hub, make_cabin: MakeCabin) -> None:
    clock = ShiftedClock()
    hub.ctx.clock = clock
    nangis = await make_cabin("nangis-01", "NAN231")
    await reaches(hub, "nangis-01", "idle")
    await check_in(nangis)
    await reaches(hub, "nangis-01", "waiting")
    assert nangis.ctx is not None
    nangis.ctx.lifecycle.transition(State.AWAITING_DISINFECTION, "test: patient left")
    await reaches(hub, "nangis-01", "awaiting_disinfection")
    await hub.alerts.check()
    clock.advance(minutes=44)  # the default: 45 minutes
    await hub.alerts.check()
    assert await alerts_of(hub) == []
    clock.advance(minutes=2)
    await hub.alerts.check()
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.kind == "awaiting_disinfection"
    assert alert.key.startswith("awaiting_disinfection:nangis-01@")
    assert "attend sa désinfection depuis 4" in alert.message  # 45 or 46 min
    assert "Hélène" not in alert.message and "Dupont" not in alert.message


def tensiometre(daemon: Daemon) -> object:
    assert daemon.ctx is not None
    return daemon.ctx.components["instruments"].instruments["tensiometre"].link  # type: ignore[attr-defined]


async def test_an_instrument_battery_running_down(hub: Hub, make_cabin: MakeCabin) -> None:
    nangis = await make_cabin("nangis-01", "NAN231")
    await reaches(hub, "nangis-01", "idle")
    assert nangis.ctx is not None

    async def battery_at_hub(percent: int) -> bool:
        status = (await cabin_row(hub, "nangis-01")).status or {}
        return any(i.get("battery_percent") == percent for i in status.get("instruments", []))

    async def measure_with(percent: int) -> None:
        link = tensiometre(nangis)
        link.battery = percent  # type: ignore[attr-defined]
        nangis.ctx.bus.publish(MeasurementRequested(instrument="tensiometre"))  # type: ignore[union-attr]
        await until(lambda: battery_at_hub(percent), what=f"battery {percent} % at the hub")

    await until(lambda: battery_at_hub(87), what="the first status")
    await hub.alerts.check()
    assert await alerts_of(hub) == []
    await measure_with(20)  # the default threshold: at it is low
    await hub.alerts.check()
    await measure_with(12)  # lower still: the same occurrence
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.kind == "battery_low"
    assert alert.key.startswith("battery_low:nangis-01:tensiometre@")
    assert "batterie de tensiometre (tensiomètre) à 20 % (seuil 20 %)" in alert.message
    assert view.alert_label(alert) == "Batterie faible : tensiometre"
    await measure_with(95)  # a new battery
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.cleared_at is not None


async def test_printer_error_and_paper_low(hub: Hub) -> None:
    await row_cabin(hub, "chelles-01", "CHE132")
    await feed(
        hub,
        "chelles-01",
        "status",
        status(printer={"state": "stopped", "message": "Bourrage papier"}),
    )
    await hub.alerts.check()
    (error,) = await alerts_of(hub)
    assert error.kind == "printer_error"
    assert error.message.endswith("imprimante arrêtée : Bourrage papier.")
    await feed(
        hub, "chelles-01", "status", status(printer={"state": "unreachable", "paper_low": True})
    )
    await hub.alerts.check()
    alerts = await alerts_of(hub)
    assert [(a.kind, a.cleared_at is None) for a in alerts] == [
        ("printer_error", True),  # still the same occurrence: nothing prints since then
        ("paper_low", True),
    ]
    await feed(hub, "chelles-01", "status", status(printer={"state": "idle"}))
    await hub.alerts.check()
    assert open_ones(await alerts_of(hub)) == []


async def test_an_occurrence_cleared_is_never_raised_again(hub: Hub) -> None:
    await row_cabin(hub, "moret-01")
    broken = status("out_of_service")
    await feed(hub, "moret-01", "status", broken)
    await hub.alerts.check()
    await feed(hub, "moret-01", "status", status("idle"))
    await hub.alerts.check()
    # The same status again (the same `since`): the same occurrence, already over.
    await feed(hub, "moret-01", "status", broken)
    await hub.alerts.check()
    (alert,) = await alerts_of(hub)
    assert alert.cleared_at is not None


async def test_a_revoked_cabin_has_no_open_alert(hub: Hub) -> None:
    await row_cabin(hub, "moret-01")
    await feed(hub, "moret-01", "status", status("out_of_service"))
    await hub.alerts.check()
    async with hub.db.transaction() as s:
        await enrolment.revoke(s, "moret-01", hub.ctx.clock())
    await hub.alerts.check()
    async with hub.db.read() as s:
        alerts = (await s.scalars(select(Alert))).all()
    assert [a.cleared_at is not None for a in alerts] == [True]


async def test_the_loop_checks_when_a_cabin_changes(hub: Hub, make_cabin: MakeCabin) -> None:
    """The hub's loop (every 15 s by default) also runs as soon as a status arrives."""
    nangis = await make_cabin("nangis-01", "NAN231")
    await reaches(hub, "nangis-01", "idle")
    assert nangis.ctx is not None
    nangis.ctx.lifecycle.transition(State.OUT_OF_SERVICE, "test")

    async def raised() -> bool:
        return [a.kind for a in await alerts_of(hub)] == ["out_of_service"]

    await until(raised, within_s=5, what="the alert raised by the loop, not the test")


async def test_a_pass_over_changed_cabins_touches_only_theirs(hub: Hub) -> None:
    """The loop's pass after a change looks at the cabins that changed, not the fleet: the
    other cabin's alert is neither raised nor cleared by it; the whole pass does both."""
    await row_cabin(hub, "nangis-01")
    await row_cabin(hub, "moret-01")
    await feed(hub, "nangis-01", "status", status("out_of_service"))
    await feed(hub, "moret-01", "status", status("out_of_service"))
    changes = await hub.alerts.check({"nangis-01"})
    assert [a.cabin_id for a in changes.raised] == ["nangis-01"]
    assert [a.cabin_id for a in open_ones(await alerts_of(hub))] == ["nangis-01"]
    await feed(hub, "nangis-01", "status", status("idle"))
    changes = await hub.alerts.check({"moret-01"})
    assert [a.cabin_id for a in changes.raised] == ["moret-01"] and changes.cleared == []
    changes = await hub.alerts.check()
    assert [a.cabin_id for a in changes.cleared] == ["nangis-01"] and changes.raised == []
    assert [a.cabin_id for a in open_ones(await alerts_of(hub))] == ["moret-01"]


async def test_a_pass_that_changes_nothing_writes_nothing(hub: Hub) -> None:
    """A pass only reads unless an alert is raised or cleared: at fleet scale the passes
    must not queue behind (nor hold back) the cabins' writes."""
    await row_cabin(hub, "nangis-01")
    await feed(hub, "nangis-01", "status", status("out_of_service"))
    await hub.alerts.check()
    writes: list[str] = []
    me = asyncio.current_task()

    def on_begin(conn: object) -> None:  # the hub's own tasks write meanwhile: not counted
        if asyncio.current_task() is me:
            writes.append("begin")

    engine = hub.db.engine.sync_engine
    event.listen(engine, "begin", on_begin)
    try:
        for _ in range(3):
            assert await hub.alerts.check() == Changes()
        assert writes == []
        await feed(hub, "nangis-01", "status", status("idle"))
        writes.clear()
        changes = await hub.alerts.check()
        assert len(changes.cleared) == 1 and writes == ["begin"]
    finally:
        event.remove(engine, "begin", on_begin)
