"""A demo day of the hygiene log, made by the real flow on a clock that moves through the
day: five patients, one anomaly (no probe covers left) cleared by the technician.

    python -m hygiene.demo_day config/demo.toml /tmp/demo-day
    kiosk hygiene export --db /tmp/demo-day/cabin.sqlite3 --since 2026-11-23
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.shared.tasks import TaskSupervisor
from hygiene.component import HygieneComponent
from hygiene.lock.simulated import SimulatedLock
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus
from kiosk.component import Context
from kiosk.lifecycle import Lifecycle, LifecycleStore, State
from kiosk.settings import load_settings

DAY = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 09:30 in Paris
# (minutes after opening the patient arrives, instruments used, anomaly at this step)
PATIENTS: list[tuple[int, list[str], str | None]] = [
    (0, ["tensiometre", "thermometre"], None),
    (55, ["tensiometre", "oxymetre", "balance"], None),
    (130, ["thermometre"], "thermometre"),
    (260, ["glucometre", "tensiometre"], None),
    (340, [], None),
]


async def run(config: Path, state_dir: Path) -> None:
    settings = load_settings(config, storage={"state_dir": state_dir})
    now = {"t": DAY}

    def clock() -> datetime:
        return now["t"]

    def later(minutes: float) -> None:
        now["t"] += timedelta(minutes=minutes)

    store = LifecycleStore(settings.storage.database)
    lc = Lifecycle(store, EventBus(), clock=clock)
    ctx = Context(
        settings=settings,
        bus=lc.bus,
        lifecycle=lc,
        appointments=AppointmentStore(settings.storage.database),
        tasks=TaskSupervisor(),
    )
    hygiene = HygieneComponent(ctx, clock=clock, lock=SimulatedLock("fail_safe"))
    flow = hygiene.flow
    for start, used, anomaly in PATIENTS:
        now["t"] = DAY + timedelta(minutes=start)
        lc.transition(State.CHECK_IN, "demo")
        for name in used:
            lc.record_instrument_used(name)
        later(25)
        lc.transition(State.AWAITING_DISINFECTION, "demo")
        later(4)
        await flow.login(pin="1234")
        assert flow.cleaning is not None
        for step_id in list(flow.cleaning.steps):
            if step_id == anomaly:
                await flow.anomaly(step_id, "plus de protège-sondes")
                later(40)
                await flow.clear("4321")
                await flow.login(pin="1234")
                assert flow.cleaning is not None
                return_ids = list(flow.cleaning.steps)
                for sid in return_ids:
                    await flow.start_step(sid)
                    later(1.1)
                    await flow.confirm_step(sid)
                break
            await flow.start_step(step_id)
            later(1.1)
            await flow.confirm_step(step_id)
        await flow.finish()
    hygiene.conn.close()
    ctx.appointments.close()
    store.close()


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1]), Path(sys.argv[2])))
