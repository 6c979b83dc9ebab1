"""The referent flow through the real HTTP API: checklist, login, contact time enforced on
the server's clock, finish (log entry + release + idle), cancel, anomaly, technician."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hygiene import log as hlog
from kiosk.events import DisinfectionLogged
from kiosk.lifecycle import State, StateChanged

from .conftest import REFERENT_PIN, TECH_PIN, Cabin, MakeCabin


async def login(cabin: Cabin) -> None:
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 200, body
    assert body == {"referent": {"id": "amelie", "name": "Amélie Martin"}}


async def do_all_steps(cabin: Cabin) -> None:
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    for step in doc["steps"]:
        assert (await cabin.call("POST", f"/api/hygiene/steps/{step['id']}/start"))[0] == 200
    cabin.clock.advance(60)
    for step in doc["steps"]:
        code, body = await cabin.call("POST", f"/api/hygiene/steps/{step['id']}/confirm")
        assert code == 200, body


async def test_full_flow_logs_releases_and_goes_idle(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    assert cabin.lock.state.value == "released"
    session = cabin.patient_session("tensiometre", "thermometre")
    await cabin.component.apply_lock()
    assert cabin.lock.state.value == "engaged"
    # fail_safe (default): engaged = powered.
    assert cabin.lock.levels[-1] is True

    code, doc = await cabin.call("GET", "/api/hygiene/checklist")
    assert code == 200
    assert doc["state"] == "awaiting_disinfection" and doc["referent"] is None
    assert [s["id"] for s in doc["steps"]] == ["siege", "ecran", "brassard", "thermometre"]

    await login(cabin)
    assert cabin.lifecycle.state is State.CLEANING
    assert cabin.lock.state.value == "engaged"
    events = cabin.ctx.bus.subscribe(DisinfectionLogged)
    await do_all_steps(cabin)
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 200, body
    assert body["state"] == "idle" and body["seq"] == 1
    assert cabin.lifecycle.state is State.IDLE
    assert cabin.lock.state.value == "released" and cabin.lock.levels[-1] is False
    event = events.get_nowait()
    assert event is not None and event.session_id == session and event.entry_hash == body["hash"]

    record = cabin.lifecycle.store.session(session)
    assert record is not None and record.disinfection_ref == body["hash"]
    [entry] = hlog.entries(cabin.component.conn)
    c = entry.content
    assert c["session_id"] == session and c["referent_id"] == "amelie"
    assert c["outcome"] == "disinfected"
    assert c["instruments_cleaned"] == ["tensiometre", "thermometre"]
    assert c["consumables_replaced"] == ["protège-sonde"]
    assert [s["id"] for s in c["steps"]] == ["siege", "ecran", "brassard", "thermometre"]
    assert all(s["confirmed_at"] for s in c["steps"])
    assert hlog.verify(cabin.component.conn).ok


async def test_contact_time_is_enforced_by_the_server(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    await login(cabin)
    # Not started: cannot be confirmed, the whole contact time remains.
    code, body = await cabin.call("POST", "/api/hygiene/steps/siege/confirm")
    assert code == 409 and body["remaining_s"] == 60
    code, body = await cabin.call("POST", "/api/hygiene/steps/siege/start")
    assert code == 200
    assert body["ready_at"] == (cabin.clock.now + timedelta(seconds=60)).isoformat()
    cabin.clock.advance(59.2)
    code, body = await cabin.call("POST", "/api/hygiene/steps/siege/confirm")
    assert code == 409 and body["remaining_s"] == 1
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    siege = doc["steps"][0]
    assert siege["status"] == "started" and siege["remaining_s"] == 1
    # Starting again does not restart (nor shorten) the countdown.
    await cabin.call("POST", "/api/hygiene/steps/siege/start")
    cabin.clock.advance(0.8)
    assert (await cabin.call("POST", "/api/hygiene/steps/siege/confirm"))[0] == 200
    # A step without contact time is confirmed directly.
    assert (await cabin.call("POST", "/api/hygiene/steps/ecran/confirm"))[0] == 200
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 200 and cabin.lifecycle.state is State.IDLE


async def test_finish_refused_until_every_step_is_confirmed(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    session = cabin.patient_session("tensiometre")
    await login(cabin)
    assert (await cabin.call("POST", "/api/hygiene/steps/ecran/confirm"))[0] == 200
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 409 and body["pending"] == ["siege", "brassard"]
    assert cabin.lifecycle.state is State.CLEANING
    assert hlog.entries(cabin.component.conn) == []
    assert cabin.lifecycle.store.undisinfected_session() == session
    assert cabin.lock.state.value == "engaged"


async def test_cancel_goes_back_to_awaiting(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    await login(cabin)
    code, body = await cabin.call("POST", "/api/hygiene/cancel")
    assert code == 200 and body["state"] == "awaiting_disinfection"
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    assert doc["referent"] is None and all(s["status"] == "pending" for s in doc["steps"])
    # Logged in again: the checklist starts over.
    await login(cabin)
    await do_all_steps(cabin)
    assert (await cabin.call("POST", "/api/hygiene/finish"))[0] == 200


async def test_anomaly_logs_and_puts_out_of_service_until_a_technician_clears(
    make_cabin: MakeCabin,
) -> None:
    cabin: Cabin = await make_cabin()
    session = cabin.patient_session("thermometre")
    await login(cabin)
    code, body = await cabin.call(
        "POST", "/api/hygiene/steps/thermometre/anomaly", {"reason": "plus de protège-sondes"}
    )
    assert code == 200 and body["state"] == "out_of_service"
    assert cabin.lifecycle.state is State.OUT_OF_SERVICE
    assert cabin.lock.state.value == "engaged"
    [entry] = hlog.entries(cabin.component.conn)
    assert entry.content["outcome"] == "anomaly"
    assert entry.content["anomalies"][0]["reason"] == "plus de protège-sondes"
    assert entry.content["anomalies"][0]["step_id"] == "thermometre"
    # The session is NOT released by an anomaly entry.
    assert cabin.lifecycle.store.undisinfected_session() == session
    # The referent cannot go on; a wrong technician PIN changes nothing.
    assert (await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN}))[0] == 409
    code, body = await cabin.call("POST", "/api/hygiene/clear", {"pin": "000000"})
    assert code == 401 and cabin.lifecycle.state is State.OUT_OF_SERVICE
    code, body = await cabin.call("POST", "/api/hygiene/clear", {"pin": TECH_PIN})
    assert code == 200 and body["state"] == "awaiting_disinfection"
    # The last session still needs its disinfection.
    await login(cabin)
    await do_all_steps(cabin)
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 200 and body["seq"] == 2
    assert hlog.verify(cabin.component.conn).ok


async def test_finish_outside_opening_hours_closes(make_cabin: MakeCabin) -> None:
    is_open = {"now": True}
    cabin: Cabin = await make_cabin(is_open=lambda _: is_open["now"])
    cabin.patient_session()
    await login(cabin)
    await do_all_steps(cabin)
    is_open["now"] = False
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 200 and body["state"] == "closed"
    assert cabin.lock.state.value == "released"


async def test_status_shows_the_hygiene_summary(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session("tensiometre")
    await cabin.component.apply_lock()
    async with cabin.http.get("/api/status") as resp:
        doc = await resp.json()
    h = doc["hygiene"]
    assert h["lock"] == "engaged" and h["driver"] == "simulated"
    assert h["checklist_steps"] == 3 and h["referent_active"] is False
    assert h["escalated"] is False and h["lockout_until"] is None
    assert h["awaiting_since"] == cabin.clock.now.isoformat()
    assert doc["locked"] is True


@pytest.mark.parametrize(
    ("route", "body", "raw", "status"),
    [
        ("POST /api/hygiene/login", None, b"{not json", 400),
        ("POST /api/hygiene/login", [1, 2], None, 400),
        ("POST /api/hygiene/login", {"pin": 1234}, None, 400),
        ("POST /api/hygiene/login", {"pin": "12ab"}, None, 400),
        ("POST /api/hygiene/login", {"pin": "1234", "badge": "X"}, None, 400),
        ("POST /api/hygiene/login", {"pin": "9999"}, None, 401),
        ("POST /api/hygiene/steps/nope/start", None, None, 404),
        ("POST /api/hygiene/steps/siege/anomaly", {"reason": ""}, None, 400),
        ("POST /api/hygiene/steps/siege/anomaly", {"reason": 5}, None, 400),
        ("POST /api/hygiene/clear", {"pin": TECH_PIN}, None, 409),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    make_cabin: MakeCabin, route: str, body: object, raw: bytes | None, status: int
) -> None:
    method, path = route.split()
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    if "steps" in path:
        await login(cabin)
    state = cabin.lifecycle.state
    _, before = await cabin.call("GET", "/api/hygiene/checklist")
    code, answer = await cabin.call(method, path, body, raw=raw)
    assert code == status and isinstance(answer["error"], str) and answer["error"]
    assert cabin.lifecycle.state is state
    _, after = await cabin.call("GET", "/api/hygiene/checklist")
    assert after == before
    assert hlog.entries(cabin.component.conn) == []


async def test_api_needs_the_ui_token(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    for token in (None, "wrong"):
        code, _ = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN}, token=token)
        assert code == 401
        assert (await cabin.call("GET", "/api/hygiene/checklist", token=token))[0] == 401
    assert cabin.lifecycle.state is State.AWAITING_DISINFECTION


async def test_login_refused_when_nothing_awaits(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 409 and body["error"]
    assert (await cabin.call("POST", "/api/hygiene/finish"))[0] == 409
    assert cabin.lifecycle.state is State.IDLE


async def test_badge_login(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    code, _ = await cabin.call("POST", "/api/hygiene/login", {"badge": "FFFF0000"})
    assert code == 401 and cabin.lifecycle.state is State.AWAITING_DISINFECTION
    code, body = await cabin.call("POST", "/api/hygiene/login", {"badge": "04a1b2c3d4"})
    assert code == 200 and body["referent"]["id"] == "amelie"
    assert cabin.lifecycle.state is State.CLEANING


async def test_a_log_that_cannot_be_written_changes_nothing(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    session = cabin.patient_session()
    await login(cabin)
    await do_all_steps(cabin)
    cabin.component.conn.execute("PRAGMA query_only = ON")  # every write now fails
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 503 and "registre" in body["error"]
    code, body = await cabin.call("POST", "/api/hygiene/steps/siege/anomaly", {"reason": "x"})
    assert code == 409  # siege is confirmed already
    assert cabin.lifecycle.state is State.CLEANING and cabin.lock.state.value == "engaged"
    assert cabin.lifecycle.store.undisinfected_session() == session
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    assert all(s["status"] == "confirmed" for s in doc["steps"])
    # Once the disk is back, the same finish works.
    cabin.component.conn.execute("PRAGMA query_only = OFF")
    code, body = await cabin.call("POST", "/api/hygiene/finish")
    assert code == 200 and body["state"] == "idle"


async def test_anomaly_not_written_is_not_kept(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session("thermometre")
    await login(cabin)
    cabin.component.conn.execute("PRAGMA query_only = ON")
    code, _ = await cabin.call("POST", "/api/hygiene/steps/thermometre/anomaly", {"reason": "x"})
    assert code == 503 and cabin.lifecycle.state is State.CLEANING
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    assert doc["steps"][-1]["status"] == "pending"
    cabin.component.conn.execute("PRAGMA query_only = OFF")


async def test_out_of_service_from_elsewhere_ends_the_cleaning(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    await login(cabin)
    changes = cabin.ctx.bus.subscribe(StateChanged)
    cabin.lifecycle.transition(State.OUT_OF_SERVICE, "printer on fire")
    await changes.get()
    changes.close()
    # The lock follower sees it: the referent's progress is dropped, the lock stays engaged.
    async with asyncio.timeout(5):
        while cabin.component.flow.cleaning is not None:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.01)
    assert cabin.lock.state.value == "engaged"
    assert (await cabin.call("POST", "/api/hygiene/finish"))[0] == 409
    code, body = await cabin.call("POST", "/api/hygiene/clear", {"pin": TECH_PIN})
    assert code == 200 and body["state"] == "awaiting_disinfection"


async def test_clear_without_a_pending_session_goes_idle(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.lifecycle.transition(State.OUT_OF_SERVICE, "test")
    await cabin.component.apply_lock()
    assert cabin.lock.state.value == "engaged"
    code, body = await cabin.call("POST", "/api/hygiene/clear", {"pin": TECH_PIN})
    assert code == 200 and body["state"] == "idle"
    assert cabin.lock.state.value == "released"


async def test_two_finishes_at_once_write_one_entry(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    await login(cabin)
    await do_all_steps(cabin)
    results = await asyncio.gather(
        cabin.call("POST", "/api/hygiene/finish"), cabin.call("POST", "/api/hygiene/finish")
    )
    assert sorted(code for code, _ in results) == [200, 409]
    assert len(hlog.entries(cabin.component.conn)) == 1
