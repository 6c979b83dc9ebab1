"""`kiosk print ...`: render, send and check prescriptions from the command line.

    kiosk print render FILE.json -o OUT.pdf
    kiosk print send FILE.json [--printer NAME]     # waits for the job; exit 1 on failure
    kiosk print status [--printer NAME]

Invalid input: every problem with its field path on stderr, exit 2, nothing printed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from hub.shared.prescription import Prescription, parse_prescription
from printer import messages
from printer.config import PrinterSettings
from printer.cups_client import JOB_COMPLETED, CupsClient, PrinterStatus
from printer.errors import CupsError, PrescriptionInvalid
from printer.render import render_prescription

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
JOB_STATE_NAMES = {
    3: "pending",
    4: "held",
    5: "processing",
    6: "stopped",
    7: "cancelled",
    8: "aborted",
    9: "completed",
}


class _InvalidInput(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("print", help="render and print prescriptions (CUPS)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)

    render = sub.add_parser("render", help="render a prescription JSON file to PDF")
    render.add_argument("file", type=Path)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("--paper", choices=["A4", "A5"], default=None)
    render.add_argument("--config", "-c", type=Path, help="cabin TOML (paper size)")
    render.set_defaults(handler=cmd_render)

    send = sub.add_parser("send", help="print a prescription JSON file and wait for the job")
    send.add_argument("file", type=Path)
    _printer_args(send)
    send.set_defaults(handler=cmd_send)

    status = sub.add_parser("status", help="state of the printer queue")
    _printer_args(status)
    status.set_defaults(handler=cmd_status)


def _printer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--printer", help="CUPS queue (default: the configured one, or PDF)")
    parser.add_argument("--server", help="CUPS server or socket (default: local)")
    parser.add_argument("--config", "-c", type=Path, help="cabin TOML ([printer] section)")


def _settings(args: argparse.Namespace) -> PrinterSettings:
    settings = PrinterSettings()
    if getattr(args, "config", None) is not None:
        from kiosk.settings import load_settings

        settings = load_settings(args.config).printer
    updates: dict[str, Any] = {}
    if getattr(args, "printer", None):
        updates["queue"] = args.printer
    if getattr(args, "server", None):
        updates["cups_server"] = args.server
    if getattr(args, "paper", None):
        updates["paper"] = args.paper
    return settings.model_copy(update=updates)


def _load(path: Path) -> Prescription:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _InvalidInput([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise _InvalidInput([f"{path}: not UTF-8 text"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _InvalidInput(
            [f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    try:
        return parse_prescription(data)
    except PrescriptionInvalid as exc:
        lines = [f"{path}: {len(exc.problems)} problème(s), rien n'est imprimé"]
        lines += [f"  {p['path']}: {p['message']}" for p in exc.problems]
        raise _InvalidInput(lines) from None


def _refused(exc: _InvalidInput) -> int:
    for line in exc.lines:
        print(line, file=sys.stderr)
    return EXIT_INVALID


def cmd_render(args: argparse.Namespace) -> int:
    try:
        rx = _load(args.file)
    except _InvalidInput as exc:
        return _refused(exc)
    pdf = render_prescription(rx, _settings(args).paper)
    args.output.write_bytes(pdf)
    print(f"{args.output}: ordonnance {rx.prescription_number}, {len(pdf)} octets")
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    try:
        rx = _load(args.file)
    except _InvalidInput as exc:
        return _refused(exc)
    settings = _settings(args)
    return asyncio.run(_send(rx, settings))


def _advice(status: PrinterStatus, settings: PrinterSettings) -> str:
    """What the technician should do about the queue; empty when it can print."""
    if status.state == "unreachable":
        return messages.unreachable(settings.cups_server, "prescription").technician
    if status.missing:
        return messages.queue_missing(settings.queue, "prescription").technician
    if not status.accepting:
        return messages.not_accepting(settings.queue, "prescription").technician
    if not status.ready:
        return messages.printer_blocked(status.reasons, settings.queue, "prescription").technician
    return ""


async def _send(rx: Prescription, settings: PrinterSettings) -> int:
    client = CupsClient(settings.queue, settings.cups_server, settings.job_options)
    status = await client.printer_status()
    if not status.ready:
        print(_advice(status, settings), "Rien n'a été envoyé.")
        return EXIT_FAILED
    pdf = await asyncio.to_thread(render_prescription, rx, settings.paper)
    try:
        job_id = await client.create_job(f"kiosk prescription {rx.prescription_number}")
        await client.send_document(job_id, pdf)
        print(f"job {job_id} sent to {settings.queue}")
        return await _wait_job(client, job_id, settings)
    except CupsError as exc:
        print(f"printing failed: {exc}")
        return EXIT_FAILED


async def _wait_job(client: CupsClient, job_id: int, settings: PrinterSettings) -> int:
    deadline = time.monotonic() + settings.job_timeout_s
    while True:
        info = await client.job(job_id)
        if info is None:
            print(f"job {job_id}: unknown to CUPS")
            return EXIT_FAILED
        name = JOB_STATE_NAMES.get(info.state, str(info.state))
        if info.final:
            print(f"job {job_id}: {name}")
            return EXIT_OK if info.state == JOB_COMPLETED else EXIT_FAILED
        if time.monotonic() > deadline:
            print(f"job {job_id}: still {name} after {settings.job_timeout_s:g} s")
            return EXIT_FAILED
        await asyncio.sleep(settings.poll_interval_s)


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    client = CupsClient(settings.queue, settings.cups_server, settings.job_options)
    status = asyncio.run(client.printer_status())
    reasons = ", ".join(status.reasons) or "none"
    print(f"queue: {settings.queue}")
    print(f"state: {status.state}{' (ready)' if status.ready else ''}")
    print(f"reasons: {reasons}")
    if status.message:
        print(f"CUPS says: {status.message}")
    advice = _advice(status, settings) or " ".join(messages.warnings(status.reasons))
    if advice:
        print(f"to do: {advice}")
    return EXIT_OK if status.ready else EXIT_FAILED
