"""`kiosk devices record` and `kiosk devices replay`: what a field instrument sends, to a
capture file (devices/capture.py), and a capture back through the cabin's link.

kiosk devices record NAME --config FILE --out FILE [--seconds S] [--count N]
kiosk devices replay FILE [--speed X]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from devices.capture import CaptureError, CaptureHeader, CaptureWriter, read_capture
from devices.cli import _fail, _PrintingSink
from devices.config import InstrumentSettings
from devices.link import InstrumentLink

# What a technician is told before recording: the file holds health data.
HEALTH_DATA_WARNING = (
    "the capture holds the instrument's raw measurements: record your own readings, "
    "never a patient's, and handle the file as health data"
)


def register(dsub: Any) -> None:
    record = dsub.add_parser("record", help="record what an instrument sends to a capture file")
    record.add_argument("name", help="the instrument's configured name")
    record.add_argument("--config", "-c", type=Path, required=True)
    record.add_argument("--out", "-o", type=Path, required=True, help="the capture file")
    record.add_argument("--seconds", type=float, default=None, help="stop after S seconds")
    record.add_argument("--count", type=int, default=None, help="stop after N readings")
    record.add_argument("--note", default="", help="free text kept in the file's header")
    record.set_defaults(handler=cmd_record)

    replay = dsub.add_parser("replay", help="play a capture through the cabin's link")
    replay.add_argument("file", type=Path, help="a capture (kiosk devices record)")
    replay.add_argument(
        "--speed", type=float, default=1.0, help="1: as recorded (default), 0: at once"
    )
    replay.set_defaults(handler=cmd_replay)


def _link(inst: InstrumentSettings, tap: CaptureWriter) -> InstrumentLink:
    if inst.transport == "serial":
        from devices.serial_link import SerialLink

        return SerialLink(inst, tap=tap)
    from devices.ble.link import BleLink

    return BleLink(inst, adapter=inst.adapter, tap=tap)


def _header(inst: InstrumentSettings, note: str) -> CaptureHeader:
    if inst.transport == "serial":
        from devices.serialproto import protocol

        proto = protocol(inst.protocol or "")
        return CaptureHeader(inst.name, inst.kind.value, "serial", proto.name,
                             proto.line_settings, note=note)  # fmt: skip
    return CaptureHeader(inst.name, inst.kind.value, "ble", address=inst.address, note=note)


def cmd_record(args: argparse.Namespace) -> int:
    from kiosk.settings import load_settings

    settings = load_settings(args.config)
    try:
        inst = settings.instrument(args.name)
    except KeyError:
        names = ", ".join(i.name for i in settings.instruments) or "none"
        return _fail(f"no instrument named {args.name!r} in {args.config} (configured: {names})")
    if inst.transport not in ("serial", "ble"):
        return _fail(f"{inst.name} is {inst.transport}: only serial and BLE instruments record")
    if args.out.exists():
        return _fail(f"{args.out} exists: give the capture a new file name")
    if (args.seconds is not None and args.seconds <= 0) or (
        args.count is not None and args.count < 1
    ):
        return _fail("--seconds and --count are more than zero")
    print(f"recording {inst.name} to {args.out}: {HEALTH_DATA_WARNING}", file=sys.stderr)
    writer = CaptureWriter(args.out, _header(inst, args.note))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_record(_link(inst, writer), inst.name, args.count, args.seconds))
    finally:
        writer.close()
    print(f"{writer.events} event(s) written to {args.out}", file=sys.stderr)
    return 0


async def _record(
    link: InstrumentLink, name: str, count: int | None, seconds: float | None
) -> None:
    sink = _PrintingSink(name, count)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def ask() -> None:  # as `read` does: start a measurement where the protocol can
        await sink.ready.wait()
        await link.request_measurement()

    runner = asyncio.create_task(link.run(sink), name=f"record-{name}")
    helpers = [asyncio.create_task(c) for c in (sink.done.wait(), stop.wait(), ask())]
    try:
        await asyncio.wait(
            [*helpers[:2], runner], timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (*helpers, runner):
            task.cancel()
        await asyncio.gather(*helpers, runner, return_exceptions=True)


def cmd_replay(args: argparse.Namespace) -> int:
    from devices.replay import replay

    if args.speed < 0:
        return _fail("--speed is 0 (as fast as possible) or more")
    try:
        capture = read_capture(args.file)
    except CaptureError as exc:
        return _fail(f"cannot replay: {exc}")
    sink = _PrintingSink(capture.header.instrument, None)
    try:
        result = asyncio.run(replay(capture, sink, args.speed))
    except CaptureError as exc:
        return _fail(f"cannot replay {args.file}: {exc}")
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counters.items())
    print(f"replayed {args.file}: {len(result.measurements)} measurement(s); {counts}",
          file=sys.stderr)  # fmt: skip
    return 0
