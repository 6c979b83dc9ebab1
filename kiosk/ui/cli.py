"""`kiosk ui`: the touchscreen, as its own process next to the daemon."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from kiosk.settings import load_settings

DEFAULT_CONFIG = Path("/etc/kiosk/cabin.toml")


def register(sub: Any) -> None:
    ui = sub.add_parser("ui", help="run the patient's touchscreen (talks to the daemon)")
    ui.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG, help="cabin TOML file")
    ui.add_argument("--url", help="daemon URL (default: from <state_dir>/runtime.json)")
    ui.add_argument("--state-dir", type=Path, help="where the daemon keeps ui-token")
    ui.add_argument("--voice", action="store_true", help="spoken guidance on (espeak-ng)")
    ui.set_defaults(handler=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    from kiosk.ui.runner import run_ui

    overrides: dict[str, Any] = {}
    base = load_settings(args.config)
    if args.state_dir is not None:
        storage = base.storage.model_dump()
        storage["state_dir"] = args.state_dir
        overrides["storage"] = storage
    settings = load_settings(args.config, **overrides) if overrides else base
    url = args.url
    if url is None:
        runtime = settings.storage.state_dir / "runtime.json"
        url = json.loads(runtime.read_text())["url"]
    asyncio.run(run_ui(url, settings, voice=args.voice))
    return 0
