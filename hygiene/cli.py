"""`kiosk hygiene ...`: verify the chained log, export it for inspectors, hash a PIN, show
recent entries."""

from __future__ import annotations

import argparse
import getpass
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("/etc/kiosk/cabin.toml")


class CliError(Exception):
    """A message for the user; exit code 2."""


def register(subparsers: Any) -> None:
    hyg = subparsers.add_parser("hygiene", help="disinfection log: verify, export, PINs")
    sub = hyg.add_subparsers(metavar="ACTION", required=True)

    verify = sub.add_parser("verify", help="check the log's hash chain (exit 1 if broken)")
    _db_args(verify)
    verify.set_defaults(handler=_run(cmd_verify))

    export = sub.add_parser("export", help="entries since a date, as CSV or PDF")
    _db_args(export)
    export.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
    export.add_argument("--format", choices=("csv", "pdf"), default="csv")
    export.add_argument("-o", "--output", type=Path, help="file (default: stdout for CSV)")
    export.set_defaults(handler=_run(cmd_export))

    hash_pin = sub.add_parser("hash-pin", help="read a PIN, print its argon2 hash for the config")
    hash_pin.set_defaults(handler=_run(cmd_hash_pin))

    show = sub.add_parser("log", help="recent entries")
    _db_args(show)
    show.add_argument("--limit", type=int, default=20)
    show.set_defaults(handler=_run(cmd_log))


def _db_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="the cabin's SQLite database")
    parser.add_argument("--config", "-c", type=Path, help=f"cabin TOML (default {DEFAULT_CONFIG})")


def _run(command: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except CliError as exc:
            print(f"kiosk hygiene: {exc}", file=sys.stderr)
            return 2

    return handler


def _database(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return Path(args.db)
    config = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    if config is None:
        raise CliError("give --db PATH or --config FILE")
    from kiosk.settings import load_settings

    return load_settings(config).storage.database


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    """Read-only: inspecting the log never changes it."""
    path = _database(args)
    if not path.exists():
        raise CliError(f"no database at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hygiene_log'"
    ).fetchone()
    if found is None:
        conn.close()
        raise CliError(f"{path} has no hygiene log")
    return conn


def cmd_verify(args: argparse.Namespace) -> int:
    from hygiene.log import verify

    conn = _open(args)
    try:
        result = verify(conn)
    finally:
        conn.close()
    print(result, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from hygiene.export import to_csv, to_pdf
    from hygiene.log import entries, verify

    try:
        since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CliError(f"--since must be YYYY-MM-DD, not {args.since!r}") from exc
    conn = _open(args)
    try:
        selected = entries(conn, since=since)
        check = verify(conn)
    finally:
        conn.close()
    if args.format == "csv":
        text = to_csv(selected)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    else:
        if args.output is None:
            raise CliError("a PDF export needs -o FILE")
        cabin = selected[0].content["cabin_id"] if selected else "?"
        args.output.write_bytes(to_pdf(selected, cabin=cabin, since=since, check=check))
    if not check.ok:
        print(f"warning: {check}", file=sys.stderr)
    return 0


def cmd_hash_pin(args: argparse.Namespace) -> int:
    from hygiene.auth import PIN_PATTERN, hash_pin

    if sys.stdin.isatty():
        pin = getpass.getpass("PIN: ")
        if getpass.getpass("PIN again: ") != pin:
            raise CliError("the two PINs differ")
    else:
        pin = sys.stdin.readline().strip()
    if not re.match(PIN_PATTERN, pin):
        raise CliError("a PIN is 4 to 8 digits")
    print(hash_pin(pin))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from hygiene.log import entries

    conn = _open(args)
    try:
        recent = entries(conn, limit=max(1, args.limit))
    finally:
        conn.close()
    for e in recent:
        c = e.content
        done = sum(1 for s in c["steps"] if s.get("confirmed_at"))
        print(
            f"{e.seq:>5}  {c['ended_at'][:19]}  {c['outcome']:<11}  session {c['session_id'][:12]}"
            f"  {c['referent_name']}  {done}/{len(c['steps'])} steps  {e.hash[:12]}"
        )
    return 0
