"""The records' commands, on the hub's store (``--config``: the hub's TOML):

- ``kiosk record show CONSULTATION_ID --format fhir|pdf [--output FILE]``: the record's
  FHIR document (JSON, on stdout or in FILE) or its report as PDF (in FILE, or on stdout
  when that is not a terminal). The record names the patient: each showing is audited
  (``record_show``, by the system user).
- ``kiosk hub records dead``: the dead letters (delivery id, consultation, channel,
  attempts, last error; no address, no patient data).
- ``kiosk hub records replay ID|--all``: dead deliveries put back to pending (audited);
  the running hub's worker sends them within its ``delivery_interval_s``.

An unknown id or a delivery that is not dead: ``refused: ...`` on stderr, exit status 1,
as the other ``kiosk hub`` commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.cli import _config_arg, _with_db
from hub.settings import HubSettings


class Refused(Exception):
    """What the command says on stderr before exiting with status 1."""


def register(sub: Any) -> None:
    """``kiosk record ...``."""
    record = sub.add_parser("record", help="a consultation's record at the hub")
    rsub = record.add_subparsers(metavar="ACTION", required=True)
    show = rsub.add_parser("show", help="its FHIR document (JSON) or its report (PDF)")
    show.add_argument("consultation_id")
    show.add_argument("--format", choices=["fhir", "pdf"], default="fhir")
    show.add_argument("--output", "-o", type=Path, help="write it here (PDF: required on a tty)")
    _config_arg(show)
    show.set_defaults(handler=cmd_show)


def register_hub(hsub: Any) -> None:
    """``kiosk hub records ...``."""
    records = hsub.add_parser("records", help="record deliveries: the dead letters, replay")
    dsub = records.add_subparsers(metavar="ACTION", required=True)
    dead = dsub.add_parser("dead", help="deliveries given up (mail to the GP, FHIR server)")
    _config_arg(dead)
    dead.set_defaults(handler=cmd_dead)
    replay = dsub.add_parser("replay", help="put dead deliveries back to pending")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("delivery_id", nargs="?", type=int, help="as `records dead` lists it")
    which.add_argument("--all", action="store_true", help="every dead delivery")
    _config_arg(replay)
    replay.set_defaults(handler=cmd_replay)


def _refusing(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Refused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1

    return run


# --- kiosk record show ------------------------------------------------------------------


async def _record(db: Any, settings: HubSettings, consultation_id: str, form: str) -> Any:
    from hub import audit
    from hub.records.assemble import record_of
    from hub.shared.record import RecordInvalid
    from hub.store.models import Account, ConsultationRecordRow

    async with db.transaction() as s:
        row = await s.get(ConsultationRecordRow, consultation_id)
        if row is None:
            raise Refused(f"no record for consultation {consultation_id}")
        account = await s.get(Account, row.doctor_id)
        assert account is not None  # a foreign key
        site = settings.site(row.site_code)
        try:
            record = record_of(row, account, site.name if site else None)
        except RecordInvalid as exc:
            # The paths only: the messages may quote the patient's data.
            paths = ", ".join(sorted({p["path"] for p in exc.problems}))
            raise Refused(f"the record of {consultation_id} is not whole yet ({paths})") from None
        audit.record(
            s, at=datetime.now(UTC), actor=getpass.getuser(), role="administrator",
            action="record_show", target=consultation_id, client="cli", format=form,
        )  # fmt: skip
    return record


@_refusing
def cmd_show(args: argparse.Namespace) -> int:
    if args.format == "pdf" and args.output is None and sys.stdout.isatty():
        raise Refused("a PDF is not written to a terminal: give --output FILE")
    record = _with_db(
        args, lambda db, settings: _record(db, settings, args.consultation_id, args.format)
    )
    if args.format == "fhir":
        from hub.records.fhir_document import build_document

        text = build_document(record).model_dump_json(exclude_none=True, indent=2) + "\n"
        if args.output is None:
            sys.stdout.write(text)
        else:
            args.output.write_text(text, encoding="utf-8")
    else:
        from hub.shared.report_pdf import render_report

        pdf = render_report(record)
        if args.output is None:
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        else:
            args.output.write_bytes(pdf)
    if args.output is not None:
        print(f"{args.output}: {args.format} record of consultation {args.consultation_id}")
    return 0


# --- kiosk hub records dead / replay ----------------------------------------------------


@_refusing
def cmd_dead(args: argparse.Namespace) -> int:
    from hub.records.delivery import dead_letters

    async def work(db: Any, settings: HubSettings) -> list[Any]:
        async with db.read() as s:
            return await dead_letters(s)

    letters = _with_db(args, work)
    print("id\tconsultation\tchannel\tattempts\tlast error")
    for d in letters:
        print(f"{d.id}\t{d.consultation_id}\t{d.channel}\t{d.attempts}\t{d.last_error or ''}")
    return 0


@_refusing
def cmd_replay(args: argparse.Namespace) -> int:
    from hub.records.delivery import dead_letters, replay
    from hub.store.models import RecordDelivery

    actor = getpass.getuser()

    async def work(db: Any, settings: HubSettings) -> list[tuple[int, str, str]]:
        async with db.transaction() as s:
            ids = [d.id for d in await dead_letters(s)] if args.all else [args.delivery_id]
            done = []
            for delivery_id in ids:
                found = await s.get(RecordDelivery, delivery_id)
                if found is None:
                    raise Refused(f"no delivery {delivery_id}")
                if found.state != "dead":
                    raise Refused(
                        f"delivery {delivery_id} is {found.state}: only a dead one is replayed"
                    )
                d = await replay(s, delivery_id, datetime.now(UTC), actor, "technician")
                done.append((d.id, d.consultation_id, d.channel))
            return done

    done = _with_db(args, work)
    for delivery_id, consultation_id, channel in done:
        print(f"delivery {delivery_id} ({channel}, consultation {consultation_id}) replayed")
    if not done:
        print("no dead delivery to replay")
    else:
        print("the hub's delivery worker sends them at its next round")
    return 0
