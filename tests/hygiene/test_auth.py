"""PIN lockout: 5 wrong attempts in 15 minutes lock the cabin's referent login, and a
restart (new component, new database connection) does not unlock it."""

from __future__ import annotations

from hygiene.auth import find_by_pin, hash_pin, pin_matches
from hygiene.config import Referent
from kiosk.lifecycle import State

from .conftest import REFERENT_PIN, Cabin, FakeClock, MakeCabin


def test_pin_hash_is_argon2_and_verifies() -> None:
    h = hash_pin("4321")
    assert h.startswith("$argon2id$") and "4321" not in h
    assert pin_matches(h, "4321") and not pin_matches(h, "4322")
    assert not pin_matches("not-a-hash", "4321")
    people = [
        Referent(id="a", name="A", pin_hash=hash_pin("1111")),
        Referent(id="b", name="B", pin_hash=h),
    ]
    assert find_by_pin(people, "4321") is people[1]
    assert find_by_pin(people, "0000") is None


async def wrong(cabin: Cabin) -> tuple[int, dict[str, object]]:
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": "0000"})
    return code, body


async def test_lockout_after_five_wrong_survives_restart(make_cabin: MakeCabin) -> None:
    clock = FakeClock()
    cabin: Cabin = await make_cabin(clock=clock)
    cabin.patient_session()
    for left in (4, 3, 2, 1):
        code, body = await wrong(cabin)
        assert (code, body["attempts_left"]) == (401, left)
        clock.advance(60)
    code, body = await wrong(cabin)  # the fifth, at t0 + 4 min
    assert code == 423
    first_failure = clock.now.replace(minute=0)
    locked_until = body["locked_until"]
    assert locked_until == (first_failure.replace(minute=15)).isoformat()
    # Even the right PIN is refused now.
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 423 and body["locked_until"] == locked_until
    assert cabin.lifecycle.state is State.AWAITING_DISINFECTION
    assert cabin.component.status()["lockout_until"] == locked_until

    # Restart: a new component on the same database file.
    await cabin.close()
    cabin = await make_cabin(clock=clock)
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 423 and body["locked_until"] == locked_until

    # Once the oldest failure is 15 minutes old, one attempt is allowed again.
    clock.advance(11 * 60 + 1)
    code, body = await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN})
    assert code == 200, body
    assert cabin.lifecycle.state is State.CLEANING
    assert cabin.component.status()["lockout_until"] is None


async def test_wrong_attempts_outside_the_window_do_not_add_up(make_cabin: MakeCabin) -> None:
    clock = FakeClock()
    cabin: Cabin = await make_cabin(clock=clock)
    cabin.patient_session()
    for _ in range(4):
        assert (await wrong(cabin))[0] == 401
        clock.advance(5 * 60)  # 4 failures over 20 minutes
    code, body = await wrong(cabin)
    assert code == 401 and body["attempts_left"] == 2  # only 3 are within 15 minutes


async def test_success_resets_the_count(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    for _ in range(4):
        assert (await wrong(cabin))[0] == 401
    assert (await cabin.call("POST", "/api/hygiene/login", {"pin": REFERENT_PIN}))[0] == 200
    assert (await cabin.call("POST", "/api/hygiene/cancel"))[0] == 200
    code, body = await wrong(cabin)
    assert code == 401 and body["attempts_left"] == 4


async def test_wrong_badges_count_too(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session()
    for _ in range(4):
        assert (await cabin.call("POST", "/api/hygiene/login", {"badge": "DEADBEEF"}))[0] == 401
    code, _ = await cabin.call("POST", "/api/hygiene/login", {"badge": "DEADBEEF"})
    assert code == 423
    code, _ = await cabin.call("POST", "/api/hygiene/login", {"badge": "04A1B2C3D4"})
    assert code == 423
