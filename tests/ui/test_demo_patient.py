"""The simulated demo patient checks in through the real API and leaves after checkout."""

from __future__ import annotations

import pytest

from kiosk import demo_patient
from kiosk.lifecycle import State
from tests.ui.conftest import StartCabin, wait_until


async def test_simulated_patient(start_cabin: StartCabin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_patient, "LEAVE_AFTER_S", 0.0)
    cabin = await start_cabin()
    await demo_patient.check_in_simulated_patient(cabin.ctx)
    assert cabin.ctx.lifecycle.state is State.WAITING
    patient = cabin.ctx.components["checkin"].current_patient()  # type: ignore[attr-defined]
    assert patient["family_name"] == "Dupont" and patient["reason"] == "Fièvre, toux, rhume"
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")
    cabin.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")
    await wait_until(lambda: cabin.ctx.lifecycle.state is State.AWAITING_DISINFECTION)


async def test_simulated_patient_does_nothing_when_the_cabin_is_busy(
    start_cabin: StartCabin,
) -> None:
    cabin = await start_cabin()
    await cabin.post("/api/ui/checkin/start")
    await demo_patient.check_in_simulated_patient(cabin.ctx)
    assert cabin.ctx.lifecycle.state is State.CHECK_IN
