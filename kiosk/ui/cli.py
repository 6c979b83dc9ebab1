"""`kiosk ui`: the touchscreen, as its own process next to the daemon."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.settings import load_settings
from kiosk.ui_auth import FILENAME

DEFAULT_CONFIG = Path("/etc/kiosk/cabin.toml")
# At boot the screen may come up before the daemon serves; systemd restarts it after.
DAEMON_WAIT_S = 60.0


def register(sub: Any) -> None:
    ui = sub.add_parser("ui", help="run the patient's touchscreen (talks to the daemon)")
    ui.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG, help="cabin TOML file")
    ui.add_argument("--url", help="daemon URL (default: from <state_dir>/runtime.json)")
    ui.add_argument("--state-dir", type=Path, help="where the daemon keeps ui-token")
    ui.add_argument("--voice", action="store_true", help="spoken guidance on (espeak-ng)")
    ui.add_argument("--notice", default="", help=argparse.SUPPRESS)  # the demo's bottom line
    ui.set_defaults(handler=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    from kiosk.ui.runner import run_screen

    inactivity_s = None
    state_dir: Path | None = args.state_dir
    if args.config.exists():
        settings = load_settings(args.config)
        state_dir = state_dir or settings.storage.state_dir
        inactivity_s = settings.site.ui_inactivity_s
    elif state_dir is None:
        print(f"kiosk ui: no {args.config}; give --config or --state-dir", file=sys.stderr)
        return 2
    url = args.url or wait_for_daemon(state_dir / "runtime.json")
    if url is None:
        print("kiosk ui: the cabin daemon is not running (no runtime.json)", file=sys.stderr)
        return 1
    if not (state_dir / FILENAME).is_file():
        print(f"kiosk ui: no {FILENAME} in {state_dir}", file=sys.stderr)
        return 1
    asyncio.run(
        run_screen(url, state_dir, inactivity_s=inactivity_s, voice=args.voice, notice=args.notice)
    )
    return 0


def wait_for_daemon(runtime: Path, within_s: float = DAEMON_WAIT_S) -> str | None:
    """The daemon's URL once it serves (it writes runtime.json then), or None."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            url = json.loads(runtime.read_text())["url"]
            if isinstance(url, str):
                return url
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)
