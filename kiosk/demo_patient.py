"""`kiosk demo --simulated-patient`: a patient who checks in by themself, through the
same local HTTP API as the touchscreen, so a doctor can try the console alone.

The demo appointment has code 123456 (shown on the demo welcome screen): `kiosk demo`
books it at start and again each time the cabin is back to idle (a check-in uses it up),
so a newcomer can run one consultation after another. After the doctor ends the
consultation the simulated patient leaves the booth."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.appointments import AppointmentIn, CodeTaken
from kiosk.bus import Subscription
from kiosk.component import Context
from kiosk.lifecycle import State, StateChanged
from kiosk.ui.client import ApiError, DaemonClient

log = logging.getLogger(__name__)

DEMO_CODE = "123456"
DEMO_PATIENT = {"family_name": "Dupont", "given_name": "Hélène", "birth_date": "1948-03-02"}
# Time the simulated patient takes to pick up the prescription and leave.
LEAVE_AFTER_S = 10.0


def add_demo_appointment(ctx: Context) -> None:
    now = datetime.now(UTC)
    data = AppointmentIn(
        slot_start=now - timedelta(minutes=10),
        slot_end=now + timedelta(hours=8),
        reason="Toux et fièvre depuis trois jours",
        code=DEMO_CODE,
        sex="F",  # from the booking: the prescription states it
        **DEMO_PATIENT,
    )
    # CodeTaken: kept from an earlier run with --state-dir.
    with contextlib.suppress(CodeTaken):
        ctx.appointments.add(data)


async def keep_demo_appointment(ctx: Context) -> None:
    """Books the demo appointment now and whenever the cabin is idle again."""
    sub = ctx.bus.subscribe(StateChanged)
    add_demo_appointment(ctx)
    ctx.tasks.spawn(_rebook_when_idle(ctx, sub), "demo-appointment")


async def _rebook_when_idle(ctx: Context, sub: Subscription[StateChanged]) -> None:
    async with sub:
        async for event in sub:
            if event.state is State.IDLE:
                add_demo_appointment(ctx)  # one small insert, demo only


def _url(ctx: Context) -> str:
    runtime = ctx.settings.storage.state_dir / "runtime.json"
    url: str = json.loads(runtime.read_text())["url"]
    return url


async def check_in_simulated_patient(ctx: Context) -> None:
    """Checks the demo patient in (idle → waiting) and leaves after checkout."""
    add_demo_appointment(ctx)
    if ctx.lifecycle.state is not State.IDLE:
        print(f"Simulated patient: the cabin is {ctx.lifecycle.state.value}, not checking in")
        return
    client = DaemonClient(_url(ctx), ctx.ui_token)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("/api/ui/checkin/start", {}),
        ("/api/ui/checkin/code", {"code": DEMO_CODE}),
        ("/api/ui/checkin/identity", dict(DEMO_PATIENT)),
        ("/api/ui/checkin/consent", {"teleconsultation": True, "data_processing": True}),
        (
            "/api/ui/checkin/questionnaire",
            {"reason": "fever_cough", "allergies": "no", "treatments": "no"},
        ),
    ]
    try:
        for path, body in steps:
            await client.post(path, body)
    except ApiError as exc:
        print(f"Simulated patient: check-in refused at {path} ({exc.code})")
        return
    finally:
        await client.close()
    print("Simulated patient: checked in, waiting for the doctor", flush=True)
    # Subscribed now, not when the task first runs: no state change can slip between.
    sub = ctx.bus.subscribe(StateChanged)
    ctx.tasks.spawn(_leave_after_checkout(ctx, sub), "simulated-patient")


async def _leave_after_checkout(ctx: Context, sub: Subscription[StateChanged]) -> None:
    async with sub:
        async for event in sub:
            if event.state is State.CHECKOUT:
                break
            if event.state not in (State.WAITING, State.IN_CONSULTATION):
                return
    await asyncio.sleep(LEAVE_AFTER_S)
    client = DaemonClient(_url(ctx), ctx.ui_token)
    try:
        await client.post("/api/ui/leave")
        print("Simulated patient: left the booth", flush=True)
    except ApiError as exc:
        log.info("simulated patient could not leave: %s", exc.code)
    finally:
        await client.close()
