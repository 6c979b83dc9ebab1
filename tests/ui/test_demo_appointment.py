"""`kiosk demo` keeps the demo appointment (code 123456) bookable: at start, and again
once the cabin is idle after a consultation used it up."""

from __future__ import annotations

from kiosk import demo_patient
from kiosk.lifecycle import State
from tests.ui.conftest import StartCabin, wait_until


async def test_demo_code_works_again_after_a_consultation(start_cabin: StartCabin) -> None:
    cabin = await start_cabin()
    ctx = cabin.ctx
    assert ctx.appointments.find_by_code(demo_patient.DEMO_CODE) is None
    await demo_patient.keep_demo_appointment(ctx)
    assert ctx.appointments.find_by_code(demo_patient.DEMO_CODE) is not None

    await demo_patient.check_in_simulated_patient(ctx)  # uses the code up
    assert ctx.lifecycle.state is State.WAITING
    assert ctx.appointments.find_by_code(demo_patient.DEMO_CODE) is None
    ctx.lifecycle.transition(State.AWAITING_DISINFECTION, "test: patient left")
    assert ctx.appointments.find_by_code(demo_patient.DEMO_CODE) is None  # not while locked
    ctx.lifecycle.transition(State.CLEANING, "test: referent")
    cabin.disinfect()
    ctx.lifecycle.transition(State.IDLE, "test: disinfected")
    await wait_until(lambda: ctx.appointments.find_by_code(demo_patient.DEMO_CODE) is not None)
    # The used appointment and one new one (a kept unused one is not duplicated).
    assert len([a for a in ctx.appointments.list() if a.code == demo_patient.DEMO_CODE]) == 2
