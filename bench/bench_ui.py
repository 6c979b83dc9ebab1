"""Touchscreen figures: how long from an event on the daemon's bus to the patient seeing
it (bus → WebSocket → UI process → widget updated), and the check-in API's round trips.
The app runs headless (Textual's test driver) against a real in-process daemon.

Run: .venv/bin/python bench/bench_ui.py [--events 200]
Prints figures only; the machine is shared, so compare rows within one run."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.appointments import AppointmentIn
from kiosk.daemon import Daemon
from kiosk.db import Transaction
from kiosk.events import PatientInstruction
from kiosk.lifecycle import LifecycleStore, State
from kiosk.settings import load_settings
from kiosk.ui.app import KioskApp
from kiosk.ui.client import DaemonClient
from kiosk.ui.screens.consultation import ConsultationScreen

CONFIG = """
[site]
cabin_id = "bench-01"
name = "Banc d'essai"
address = "1 rue du Banc, 77000 Melun"
[hours]
always_open = true
[network]
listen_host = "127.0.0.1"
listen_port = 0
[storage]
state_dir = "{state}"
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def show(label: str, ms: list[float]) -> None:
    print(
        f"{label}: p50 {statistics.median(ms):.2f} ms, p95 {pct(ms, 0.95):.2f} ms, "
        f"max {max(ms):.2f} ms (n={len(ms)})"
    )


async def bench(events: int, tmp: Path) -> None:
    path = tmp / "cabin.toml"
    path.write_text(CONFIG.format(state=tmp / "state"))
    daemon = Daemon(load_settings(path))
    ctx = await daemon.start()
    assert daemon.url is not None
    client = DaemonClient(daemon.url, ctx.ui_token)
    try:
        rounds = []
        for i in range(20):
            now = datetime.now(UTC)
            code = f"{100000 + i}"
            ctx.appointments.add(
                AppointmentIn(
                    slot_start=now - timedelta(minutes=5),
                    slot_end=now + timedelta(minutes=25),
                    family_name="Dupont",
                    given_name="Hélène",
                    birth_date=datetime(1948, 3, 2).date(),
                    code=code,
                )
            )
            t = time.perf_counter()
            await client.post("/api/ui/checkin/start")
            await client.post("/api/ui/checkin/code", {"code": code})
            rounds.append((time.perf_counter() - t) * 1000 / 2)
            await client.post("/api/ui/checkin/abandon")
            ctx.lifecycle.transition(State.CLEANING, "bench")
            store = ctx.lifecycle.store
            session = store.undisinfected_session()
            assert session is not None
            with Transaction(store.conn) as conn:
                LifecycleStore.mark_disinfected(conn, session, "bench", datetime.now(UTC))
            ctx.lifecycle.transition(State.IDLE, "bench")
        show("check-in API round trip (start, code)", rounds)

        await client.post("/api/ui/checkin/start")
        ctx.lifecycle.transition(State.WAITING, "bench")
        ctx.lifecycle.transition(State.IN_CONSULTATION, "bench")
        app = KioskApp(client)
        latencies = []
        async with app.run_test(size=(120, 45)) as pilot:
            while not isinstance(app.screen, ConsultationScreen):
                await pilot.pause(0.01)
            screen = app.screen
            for i in range(events):
                text = f"Instruction {i}"
                t = time.perf_counter()
                ctx.bus.publish(PatientInstruction(text=text))
                while screen.instruction != text:  # noqa: ASYNC110 - what we measure
                    await asyncio.sleep(0.0005)
                latencies.append((time.perf_counter() - t) * 1000)
        show("bus event -> touchscreen widget", latencies)
    finally:
        await client.close()
        await daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args.events, Path(tmp)))


if __name__ == "__main__":
    main()
