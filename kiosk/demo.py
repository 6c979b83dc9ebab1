"""`kiosk demo`: the cabin on config/demo.toml, on localhost, for a newcomer."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from pathlib import Path
from typing import Any

from kiosk.demo_patient import (
    DEMO_CODE,
    DEMO_PATIENT,
    check_in_simulated_patient,
    keep_demo_appointment,
)
from kiosk.settings import CabinSettings, load_settings

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.toml"
# What the demo patient types on the touchscreen (a made-up person).
DEMO_IDENTITY = "{given_name} {family_name}, born {birth_date}".format(**DEMO_PATIENT)


def add_demo_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run the cabin in demo mode on localhost")
    demo.add_argument("--config", type=Path, default=REPO_CONFIG, help=argparse.SUPPRESS)
    demo.add_argument("--state-dir", type=Path, help="keep state here (default: fresh each run)")
    demo.add_argument("--headless", action="store_true", help="no touchscreen UI")
    demo.add_argument(
        "--simulated-patient",
        action="store_true",
        help="check a simulated patient in, so a doctor can try the console alone",
    )
    demo.add_argument("--port", type=int, default=None, help="listen port (default 8740)")
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(handler=cmd_demo)


def demo_settings(args: argparse.Namespace, state_dir: Path) -> CabinSettings:
    overrides: dict[str, Any] = {}
    base = load_settings(args.config)
    storage = base.storage.model_dump()
    storage["state_dir"] = state_dir
    overrides["storage"] = storage
    if args.port is not None:
        network = base.network.model_dump()
        network["listen_port"] = args.port
        overrides["network"] = network
    return load_settings(args.config, **overrides)


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.shared import logs

    logs.setup(args.log_level)
    if args.state_dir is not None:
        return asyncio.run(_run_demo(args, args.state_dir))
    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        return asyncio.run(_run_demo(args, Path(tmp)))


async def _run_demo(args: argparse.Namespace, state_dir: Path) -> int:
    from kiosk.daemon import Daemon

    settings = demo_settings(args, state_dir)
    token = secrets.token_urlsafe(24)
    daemon = Daemon(settings, demo_login_token=token)
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop_requested.set)
    try:
        ctx = await daemon.start()
        await keep_demo_appointment(ctx)
        print(f"Doctor console: {daemon.url}/doctor/demo-login?token={token}", flush=True)
        print(f"Status: {daemon.url}/api/status", flush=True)
        print(f"Appointment code: {DEMO_CODE} ({DEMO_IDENTITY})", flush=True)
        if args.simulated_patient:
            await check_in_simulated_patient(ctx)
        if args.headless:
            await daemon.stop_requested.wait()
        else:
            await _run_ui(daemon)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await daemon.stop()
    return 0


async def _run_ui(daemon: Any) -> None:
    """The touchscreen UI in this process, talking to the daemon over its local API as
    it does on a cabin. Without the UI package yet, wait like --headless."""
    try:
        from kiosk.ui.runner import run_ui  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        await daemon.stop_requested.wait()
        return
    # The screen hides what was printed: it repeats the doctor console's address.
    notice = f"Console médecin / doctor console: {daemon.url}/doctor/demo-login?token="
    notice += str(daemon.demo_login_token)
    ui = asyncio.ensure_future(run_ui(daemon.url, daemon.settings, notice=notice))
    stop = asyncio.ensure_future(daemon.stop_requested.wait())
    done, pending = await asyncio.wait({ui, stop}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()
