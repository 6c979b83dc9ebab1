"""`kiosk`: the one console script. Each package adds its subcommands through a
`register(subparsers)` function in its `cli` module."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import importlib
import io
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kiosk.settings import CabinSettings, ConfigError, load_settings

Handler = Callable[[argparse.Namespace], int]

# Subcommand groups from the other packages, registered when the module exists.
PLUGIN_MODULES = (
    "devices.cli",
    "printer.cli",
    "hygiene.cli",
    "kiosk.ui.cli",
    "hub.cli",
    "hub.records.cli",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    # A technician (or a test) can ask a hung process where it is: `kill -USR1 PID`
    # writes every thread's stack to its stderr (the journal under systemd).
    # (Not when stderr is no file, as under a test's capture.)
    with contextlib.suppress(io.UnsupportedOperation, ValueError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        return handler(args)
    except ConfigError as exc:
        print_config_error(exc)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Teleconsultation cabin controller")
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the cabin daemon")
    run.add_argument("--config", "-c", type=Path, required=True, help="cabin TOML file")
    run.add_argument("--log-level", default="INFO")
    run.set_defaults(handler=cmd_run)

    from kiosk.hub_link.enrol import add_enrol_parser

    add_enrol_parser(sub)

    config = sub.add_parser("config", help="check a configuration file or print its schema")
    csub = config.add_subparsers(metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate a cabin's or the hub's TOML file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=cmd_config_check)
    schema = csub.add_parser("schema", help="print the JSON schema of the configuration")
    schema.add_argument("--hub", action="store_true", help="the hub's, not a cabin's")
    schema.set_defaults(handler=cmd_config_schema)

    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that package has no CLI yet
            raise
        module.register(sub)
    return parser


def print_config_error(exc: ConfigError) -> None:
    print(f"{exc.file}: {len(exc.problems)} error(s)", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from hub.shared import logs
    from kiosk.daemon import Daemon

    settings = load_settings(args.config)
    logs.setup(args.log_level)
    asyncio.run(Daemon(settings).run())
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from hub.shared.config_file import read_toml

    _, data = read_toml(args.file)
    if "sites" in data and "site" not in data:  # a hub's file lists [[sites]]
        hub_cli = importlib.import_module("hub.cli")
        print(hub_cli.check_config(args.file))
        return 0
    settings = load_settings(args.file)
    print(
        f"{args.file}: OK (cabin {settings.site.cabin_id}, "
        f"{len(settings.instruments)} instrument(s), {len(settings.hygiene.steps)} hygiene step(s))"
    )
    return 0


def cmd_config_schema(args: argparse.Namespace) -> int:
    model: Any = CabinSettings
    if args.hub:
        model = importlib.import_module("hub.settings").HubSettings
    print(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
