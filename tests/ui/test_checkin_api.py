"""The checkin component's API against a real in-process daemon."""

from __future__ import annotations

import time
from datetime import date

import aiohttp

from kiosk.lifecycle import State
from kiosk.ui_auth import HEADER
from tests.ui.conftest import TECH_PIN, StartCabin, wait_until


async def test_routes_need_the_ui_token(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    async with aiohttp.ClientSession() as http:
        async with http.get(cabin.url + "/api/ui/state") as resp:
            assert resp.status == 401
        async with http.post(
            cabin.url + "/api/ui/checkin/start", headers={HEADER: "wrong"}
        ) as resp:
            assert resp.status == 401
    assert cabin.ctx.lifecycle.state is State.IDLE


async def test_full_check_in_with_an_appointment(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    cabin.add_appointment()
    status, state = await cabin.get("/api/ui/state")
    assert status == 200
    assert state["state"] == "idle" and state["open_now"] is True and not state["locked"]
    assert state["site"]["name"] == "Cabine de test"
    assert (await cabin.post("/api/ui/checkin/start"))[0] == 200
    assert cabin.ctx.lifecycle.state is State.CHECK_IN
    status, body = await cabin.post("/api/ui/checkin/code", {"code": "999999"})
    assert (status, body["code"]) == (404, "unknown_code")
    status, body = await cabin.post("/api/ui/checkin/code", {"code": "12a"})
    assert (status, body["code"]) == (422, "invalid")
    assert (await cabin.post("/api/ui/checkin/code", {"code": "123456"}))[0] == 200
    ident = {"family_name": "DUPONT", "given_name": "helene", "birth_date": "1950-01-01"}
    status, body = await cabin.post("/api/ui/checkin/identity", ident)
    assert (status, body["code"]) == (409, "identity_mismatch")
    ident["birth_date"] = "1948-03-02"
    status, body = await cabin.post("/api/ui/checkin/identity", ident)
    assert (status, body["age_rule"]) == (200, "adult")
    status, body = await cabin.post(
        "/api/ui/checkin/consent", {"teleconsultation": True, "data_processing": False}
    )
    assert (status, body["code"]) == (403, "consent_refused")
    consent = {"teleconsultation": True, "data_processing": True}
    assert (await cabin.post("/api/ui/checkin/consent", consent))[0] == 200
    checkin = cabin.ctx.components["checkin"]
    assert checkin.current_patient()["family_name"] == "DUPONT"  # type: ignore[attr-defined]
    q = {"reason": "fièvre", "allergies": "", "treatments": "", "pregnancy": "no"}
    status, body = await cabin.post("/api/ui/checkin/questionnaire", q)
    assert (status, body["state"]) == (200, "waiting")
    patient = checkin.current_patient()  # type: ignore[attr-defined]
    assert patient["reason"] == "fièvre" and patient["age"] >= 78
    assert patient["answers"]["Grossesse possible"] == "Non"
    # The appointment's code cannot be used twice.
    assert cabin.ctx.appointments.find_by_code("123456") is None
    # The doctor side ends the consultation; the patient leaves; data is wiped.
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "test")
    cabin.ctx.lifecycle.transition(State.CHECKOUT, "test")
    assert (await cabin.post("/api/ui/leave"))[0] == 200
    assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION
    await wait_until(lambda: checkin.patient is None)  # type: ignore[attr-defined]
    assert checkin.current_patient() is None  # type: ignore[attr-defined]


async def test_age_rule(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=True)
    await cabin.post("/api/ui/checkin/start")
    assert (await cabin.post("/api/ui/checkin/walk-in"))[0] == 200
    today = date.today()
    minor = date(today.year - 16, 1, 1).isoformat()
    child = date(today.year - 10, 1, 1).isoformat()
    ident = {"family_name": "Martin", "given_name": "Léa", "birth_date": child}
    status, body = await cabin.post("/api/ui/checkin/identity", ident)
    assert (status, body["code"]) == (403, "too_young")
    ident["birth_date"] = minor
    status, body = await cabin.post("/api/ui/checkin/identity", ident)
    assert (status, body["code"]) == (403, "needs_representative")
    status, body = await cabin.post(
        "/api/ui/checkin/identity", {**ident, "representative_present": True}
    )
    assert (status, body["age_rule"]) == (200, "minor_with_representative")
    # Giving up after check-in started: the booth was used, it needs cleaning.
    assert (await cabin.post("/api/ui/checkin/abandon"))[0] == 200
    assert cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION
    status, body = await cabin.post("/api/ui/checkin/start")
    assert (status, body["code"]) == (409, "locked")


async def test_walk_in_only_when_allowed(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(walk_in=False)
    await cabin.post("/api/ui/checkin/start")
    status, body = await cabin.post("/api/ui/checkin/walk-in")
    assert (status, body["code"]) == (403, "no_walk_in")
    status, body = await cabin.post("/api/ui/checkin/consent", {})
    assert (status, body["code"]) == (409, "wrong_step")


async def test_closed_cabin_refuses(start_cabin: StartCabin) -> None:
    cabin = await start_cabin(always_open=False, weekly='monday = ["09:00-09:01"]')
    status, state = await cabin.get("/api/ui/state")
    assert state["state"] == "closed" and state["open_now"] is False
    assert state["next_change"] is not None
    status, body = await cabin.post("/api/ui/checkin/start")
    assert (status, body["code"]) == (409, "closed")
    assert cabin.ctx.lifecycle.state is State.CLOSED


async def test_technician_pin(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    status, body = await cabin.post("/api/ui/technician/login", {"pin": "0000"})
    assert (status, body["attempts_left"]) == (401, 4)
    assert (await cabin.post("/api/ui/technician/login", {"pin": TECH_PIN}))[0] == 200
    for _ in range(5):
        await cabin.post("/api/ui/technician/login", {"pin": "0000"})
    status, body = await cabin.post("/api/ui/technician/login", {"pin": TECH_PIN})
    assert (status, body["code"]) == (423, "locked_out")


async def test_events_stream_and_chat(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    from kiosk.events import ChatMessage

    seen = cabin.ctx.bus.subscribe(ChatMessage)
    async with (
        aiohttp.ClientSession(headers=cabin.headers) as http,
        http.ws_connect(cabin.url + "/api/ui/events") as ws,
    ):
        hello = await ws.receive_json(timeout=5)
        assert hello == {"type": "Hello", "state": "idle", "locked": False}
        await cabin.post("/api/ui/checkin/start")
        event = await ws.receive_json(timeout=5)
        assert event["type"] == "StateChanged" and event["state"] == "check_in"
        status, _ = await cabin.post("/api/ui/chat", {"text": "Je n'entends pas"})
        assert status == 200
        event = await ws.receive_json(timeout=5)
        assert event == {**event, "type": "ChatMessage", "sender": "patient"}
        assert (await seen.get()).text == "Je n'entends pas"
        seen.close()
        # The daemon stops promptly with a screen connected.
        started = time.monotonic()
        await cabin.daemon.stop()
        assert time.monotonic() - started < 3.0
    cabin.daemon._runner = None


async def test_measurements_stream_as_json(start_cabin: StartCabin) -> None:
    from decimal import Decimal

    from devices.measurement import Measurement, Observation
    from kiosk.events import MeasurementTaken

    cabin = await start_cabin()
    async with (
        aiohttp.ClientSession(headers=cabin.headers) as http,
        http.ws_connect(cabin.url + "/api/ui/events") as ws,
    ):
        assert (await ws.receive_json(timeout=5))["type"] == "Hello"
        temp = Observation("8310-5", "Body temperature", Decimal("37.8"), "Cel")
        cabin.ctx.bus.publish(
            MeasurementTaken(instrument="thermo", measurement=Measurement("temperature", (temp,)))
        )
        event = await ws.receive_json(timeout=5)
        assert event["type"] == "MeasurementTaken"
        assert event["measurement"]["observations"][0]["value"] == 37.8


async def test_hygiene_technicians_reach_the_technician_screen(start_cabin: StartCabin) -> None:
    from hygiene.auth import hash_pin

    extra = f"""
[[hygiene.technicians]]
id = "paul"
name = "Paul T."
pin_hash = "{hash_pin("97531")}"
"""
    cabin = await start_cabin(extra=extra)
    assert (await cabin.post("/api/ui/technician/login", {"pin": "97531"}))[0] == 200
    assert (await cabin.post("/api/ui/technician/login", {"pin": TECH_PIN}))[0] == 200
    status, body = await cabin.post("/api/ui/technician/login", {"pin": "13579"})
    assert (status, body["attempts_left"]) == (401, 4)


async def test_trying_codes_one_after_another_is_stopped(start_cabin: StartCabin) -> None:
    """Ten wrong codes in ten minutes, whatever the sessions: the next code waits, even
    the right one, and nothing else changes; past the window, it checks in."""
    from kiosk.checkin import component as checkin_component
    from kiosk.checkin.lockout import RecentFailures

    cabin = await start_cabin()
    cabin.add_appointment()
    checkin = cabin.ctx.components["checkin"]
    now = [1000.0]
    checkin.wrong_codes = RecentFailures(  # type: ignore[attr-defined]
        checkin_component.MAX_WRONG_CODES,
        checkin_component.WRONG_CODES_WINDOW_S,
        clock=lambda: now[0],
    )
    assert checkin_component.MAX_WRONG_CODES == 10
    for n in range(10):
        if n % 3 == 0:  # a new patient (session) does not start the count again
            if n:
                assert (await cabin.post("/api/ui/checkin/abandon"))[0] == 200
                cabin.disinfect()
                cabin.ctx.lifecycle.transition(State.CLEANING, "referent")
                cabin.ctx.lifecycle.transition(State.IDLE, "disinfected")
            assert (await cabin.post("/api/ui/checkin/start"))[0] == 200
        status, body = await cabin.post("/api/ui/checkin/code", {"code": f"{n:06d}"})
        assert (status, body["code"]) == (404, "unknown_code"), n
    status, body = await cabin.post("/api/ui/checkin/code", {"code": "123456"})
    assert (status, body["code"]) == (423, "locked_out")
    assert body["retry_after_s"] == 600
    assert checkin.patient.step == "code"  # type: ignore[attr-defined]
    now[0] += checkin_component.WRONG_CODES_WINDOW_S
    status, body = await cabin.post("/api/ui/checkin/code", {"code": "123456"})
    assert (status, body["step"]) == (200, "identity")
