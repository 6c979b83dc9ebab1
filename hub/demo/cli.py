"""`kiosk demo`: the hub and three cabins on localhost, the first one's touchscreen here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.auth.totp import code_at
from hub.demo.accounts import ACCOUNTS, DEMO_TOTP_SECRET
from hub.demo.fleet import CABIN_CONFIG, CABINS, DemoFleet
from hub.demo.people import HELENE, check_in, leave_after_checkout

# A visitor comes to Chelles and Moret this long after the cabin is free again, and
# gives up after this long without a doctor.
VISITOR_EVERY_S = 240.0
PATIENCE_S = 900.0


def add_demo_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a hub and three cabins in demo mode on localhost")
    demo.add_argument("--state-dir", type=Path, help="keep state here (default: fresh each run)")
    demo.add_argument("--headless", action="store_true", help="no touchscreen UI")
    demo.add_argument(
        "--simulated-patient",
        action="store_true",
        help="the booked patient checks in at Nangis by herself (try the console alone)",
    )
    demo.add_argument("--port", type=int, default=None, help="the hub's port (default 8750)")
    demo.add_argument(
        "--visitor-every", type=float, default=VISITOR_EVERY_S, help=argparse.SUPPRESS
    )
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.shared import logs

    logs.setup(args.log_level)
    if args.state_dir is not None:
        return asyncio.run(_run(args, args.state_dir))
    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        return asyncio.run(_run(args, Path(tmp)))


def _hub_banner(fleet: DemoFleet) -> list[str]:
    logins = ", ".join(f"{a.username} / {a.password} ({a.role})" for a in ACCOUNTS)
    code_now = code_at(DEMO_TOTP_SECRET, datetime.now(UTC))
    return [
        f"Hub: {fleet.url}",
        f"Doctor console: {fleet.link('doctor')}",
        f"Coordinator screen: {fleet.link('coordinator')}",
        f"Fleet dashboard: {fleet.link('technician')}",
        f"Logins at {fleet.url}/login: {logins}",
        f"Second factor (TOTP) of the demo accounts: secret {DEMO_TOTP_SECRET} "
        f"(code now: {code_now})",
        "Starting the cabins...",
    ]


def _cabins_banner(fleet: DemoFleet) -> list[str]:
    lines = [
        "Cabins: "
        + ", ".join(
            f"{c.cabin_id} ({'simulated patients' if c.simulated_patients else 'this touchscreen'})"
            for c in CABINS
        ),
    ]
    lines.append(f"Status: {fleet.apis[CABINS[0].cabin_id].url}/api/status")
    if fleet.appointment is not None:
        code, person = fleet.appointment
        lines.append(
            f"Appointment code: {code} ({person.given_name} {person.family_name}, "
            f"born {person.birth_date}) at {CABINS[0].name}"
        )
    return lines


async def _run(args: argparse.Namespace, state_dir: Path) -> int:
    fleet = DemoFleet(
        state_dir,
        port=8750 if args.port is None else args.port,
        visitor_every_s=args.visitor_every,
        patience_s=PATIENCE_S,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await fleet.start_hub()
        for line in _hub_banner(fleet):
            print(line, flush=True)
        await fleet.start_cabins()
        for line in _cabins_banner(fleet):
            print(line, flush=True)
        nangis = fleet.apis[CABINS[0].cabin_id]
        if args.simulated_patient and fleet.appointment is not None:
            await check_in(nangis, HELENE, fleet.appointment[0])
            print("Simulated patient: checked in at Nangis, waiting for the doctor", flush=True)
            fleet.spawn(leave_after_checkout(nangis, PATIENCE_S), "demo-helene-leaves")
        if args.headless:
            await stop.wait()
        else:
            await _touchscreen(fleet, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await fleet.stop()
    return 0


async def _touchscreen(fleet: DemoFleet, stop: asyncio.Event) -> None:
    """`kiosk ui` for Nangis in this terminal, until it quits (Ctrl-Q) or we are stopped."""
    # (The bottom line is short: the demo-login links are printed before the screen.)
    notice = f"Console médecin / doctor console: {fleet.url}/doctor"
    if fleet.appointment is not None:
        notice += f" · code : {fleet.appointment[0]}"
    cabin = CABINS[0]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk.cli", "ui", "--config", str(CABIN_CONFIG),
        "--state-dir", str(fleet.cabin_dir(cabin)), "--notice", notice,
        env=fleet.cabin_env(cabin),
    )  # fmt: skip
    waiter = asyncio.ensure_future(stop.wait())
    ui = asyncio.ensure_future(proc.wait())
    await asyncio.wait({waiter, ui}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
    await asyncio.gather(waiter, ui, return_exceptions=True)
