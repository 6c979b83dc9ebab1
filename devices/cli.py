"""`kiosk devices ...`: the technician's instrument commands.

kiosk devices list --config FILE         configured instruments
kiosk devices read NAME --config FILE    open one instrument, print each measurement
kiosk devices watch NAME --config FILE   the same, until Ctrl-C
kiosk devices decode SPEC HEX            decode one characteristic value / serial frame
kiosk devices protocols                  the serial protocols and their line settings
kiosk devices simulate PROTOCOL --link PATH   a simulated serial instrument on a pty
kiosk devices record NAME --config FILE --out FILE   what it sends, to a capture file
kiosk devices replay FILE                 a capture through the cabin's link and decoder
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

from devices.measurement import DecodeError, Measurement
from kiosk.events import InstrumentState

_ADDRESS = re.compile(r"(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}")


def register(sub: Any) -> None:
    devices = sub.add_parser("devices", help="instruments: list, read, decode, simulate")
    dsub = devices.add_subparsers(metavar="ACTION", required=True)

    listing = dsub.add_parser("list", help="the configured instruments")
    listing.add_argument("--config", "-c", type=Path, required=True)
    listing.set_defaults(handler=cmd_list)

    for name, helptext in (
        ("read", "open one configured instrument and print its measurements (JSON lines)"),
        ("watch", "live readings of a configured instrument, until Ctrl-C"),
    ):
        read = dsub.add_parser(name, help=helptext)
        read.add_argument("name", help="the instrument's configured name")
        read.add_argument("--config", "-c", type=Path, required=True)
        if name == "read":
            read.add_argument("--count", type=int, default=None, help="stop after N readings")
        read.set_defaults(handler=cmd_read, count=None)

    decode = dsub.add_parser("decode", help="decode a characteristic value or a serial frame")
    decode.add_argument("spec", nargs="?", help="2A35, 0x2A35, a 128-bit UUID or a protocol")
    decode.add_argument("hex", nargs="*", help="the bytes in hex (spaces allowed)")
    decode.add_argument("--quirk", action="append", default=[], help="a per-model quirk")
    decode.add_argument("--list", action="store_true", help="what can be decoded")
    decode.set_defaults(handler=cmd_decode)

    scan = dsub.add_parser("scan", help="Bluetooth LE instruments advertising a health service")
    scan.add_argument("--seconds", type=float, default=5.0)
    scan.add_argument("--adapter", help="e.g. hci0 (default: BlueZ's first)")
    scan.set_defaults(handler=cmd_scan)

    pair = dsub.add_parser("pair", help="bond with a Bluetooth LE instrument")
    pair.add_argument("address", help="AA:BB:CC:DD:EE:FF")
    pair.add_argument("--pin", type=int, help="the passkey the instrument shows, if it does")
    pair.add_argument("--adapter", help="e.g. hci0")
    pair.set_defaults(handler=cmd_pair)

    protocols = dsub.add_parser("protocols", help="the serial protocols")
    protocols.set_defaults(handler=cmd_protocols)

    simulate = dsub.add_parser("simulate", help="run a simulated serial instrument on a pty")
    simulate.add_argument("protocol", help="e.g. contec-cms50d, nonin-df8, tanita-tbf310")
    simulate.add_argument("--link", type=Path, required=True, help="symlink to the pty here")
    simulate.add_argument("--one-byte", action="store_true", help="write one byte at a time")
    simulate.add_argument("--drop-rate", type=float, default=0.0, help="lose this share of bytes")
    simulate.add_argument(
        "--garbage-every", type=int, default=0, metavar="N", help="noise burst every N frames"
    )
    simulate.set_defaults(handler=cmd_simulate)

    from devices import capture_cli  # after this module's own names exist (it uses them)

    capture_cli.register(dsub)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def cmd_list(args: argparse.Namespace) -> int:
    from kiosk.settings import load_settings

    settings = load_settings(args.config)
    if not settings.instruments:
        print("no instruments configured")
    for inst in settings.instruments:
        where = inst.port or inst.address or ""
        extra = f" {inst.protocol}" if inst.protocol else ""
        print(f"{inst.name:<16} {inst.kind.value:<16} {inst.transport:<10} {where}{extra}")
    return 0


# -- read / watch ------------------------------------------------------------------------


class _PrintingSink:
    def __init__(self, name: str, count: int | None) -> None:
        self.name = name
        self.count = count
        self.printed = 0
        self.done = asyncio.Event()
        self.ready = asyncio.Event()
        self.final = asyncio.Event()

    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        battery_text = "" if battery is None else f", battery {battery} %"
        print(f"{self.name}: {state} ({detail}{battery_text})", file=sys.stderr, flush=True)
        if state == "ready":
            self.ready.set()

    def measurement(self, measurement: Measurement) -> None:
        line = {"instrument": self.name, "intermediate": measurement.intermediate}
        print(json.dumps(line | measurement.to_json(), ensure_ascii=False), flush=True)
        if measurement.intermediate:
            return
        self.printed += 1
        self.final.set()
        if self.count is not None and self.printed >= self.count:
            self.done.set()


def cmd_read(args: argparse.Namespace) -> int:
    from kiosk.settings import load_settings

    settings = load_settings(args.config)
    try:
        inst = settings.instrument(args.name)
    except KeyError:
        names = ", ".join(i.name for i in settings.instruments) or "none"
        return _fail(f"no instrument named {args.name!r} in {args.config} (configured: {names})")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_read(inst, args.count))
    return 0


async def _read(inst: Any, count: int | None) -> None:
    from devices.factory import make_link

    link = make_link(inst)
    sink = _PrintingSink(inst.name, count)
    runner = asyncio.create_task(link.run(sink), name=f"read-{inst.name}")
    try:
        await sink.ready.wait()
        while not sink.done.is_set():
            sink.final.clear()
            await link.request_measurement()  # where the protocol allows it
            waits = [asyncio.ensure_future(sink.final.wait()), runner]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            waits[0].cancel()
            if runner.done():
                break
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


# -- decode ------------------------------------------------------------------------------


def cmd_decode(args: argparse.Namespace) -> int:
    from devices import gatt
    from devices.serialproto import ALIASES, PROTOCOLS, protocol

    if args.list:
        for uuid in gatt.supported():
            print(f"{uuid:04X}  {gatt.CHARACTERISTICS.get(uuid, '')}")
        for name, proto in sorted(PROTOCOLS.items()):
            print(f"{name:<14} {proto.description}")
        for alias, name in sorted(ALIASES.items()):
            print(f"{alias:<14} = {name}")
        return 0
    if args.spec is None or not args.hex:
        return _fail("usage: kiosk devices decode SPEC HEX (or --list)")
    try:
        data = bytes.fromhex("".join(args.hex))
    except ValueError:
        return _fail("the bytes must be hexadecimal, e.g. 1E 78 00 50 00 5D 00")
    try:
        if args.spec in PROTOCOLS or args.spec in ALIASES:
            decoded: Any = protocol(args.spec).decode(data)
        else:
            uuid = gatt.parse_uuid(args.spec)
            decoded = gatt.decode(uuid, data, gatt.check_quirks(args.quirk))
    except (DecodeError, ValueError) as exc:
        return _fail(f"cannot decode: {exc}")
    if isinstance(decoded, Measurement):
        print(json.dumps(decoded.to_json(), ensure_ascii=False))
    elif isinstance(decoded, int):
        print(json.dumps({"kind": "battery", "battery_percent": decoded}))
    else:
        print(json.dumps({"kind": type(decoded).__name__, "value": repr(decoded)}))
    return 0


def cmd_protocols(args: argparse.Namespace) -> int:
    from devices.serialproto import PROTOCOLS

    for name, proto in sorted(PROTOCOLS.items()):
        checked = f" [not yet checked against a device: {proto.unconfirmed}]"
        line = f"{name:<14} {proto.line_settings:<10} {proto.kind.value:<16} {proto.description}"
        print(line + (checked if proto.unconfirmed else ""))
    return 0


# -- Bluetooth ---------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace) -> int:
    from devices.ble.scan import scan_health_instruments

    try:
        found = asyncio.run(scan_health_instruments(args.seconds, adapter=args.adapter))
    except (ValueError, OSError) as exc:
        return _fail(f"cannot scan: {exc}")
    for device in found:
        print(json.dumps(device.to_json(), ensure_ascii=False))
    if not found:
        print("no instrument advertising a health service", file=sys.stderr)
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    from devices.ble.link import InstrumentNotFoundError
    from devices.ble.pairing import PairingError, pair_instrument

    if not _ADDRESS.fullmatch(args.address):
        return _fail(f"{args.address!r} is not a Bluetooth address (AA:BB:CC:DD:EE:FF)")
    address = args.address.upper()
    try:
        asyncio.run(pair_instrument(address, passkey=args.pin, adapter=args.adapter))
    except InstrumentNotFoundError:
        return _fail(f"{address} was not seen advertising: wake the instrument up, try again")
    except (PairingError, ValueError, TimeoutError, OSError) as exc:
        return _fail(f"pairing failed: {exc or type(exc).__name__}")
    print(f"paired with {address}")
    return 0


# -- simulate ----------------------------------------------------------------------------


def cmd_simulate(args: argparse.Namespace) -> int:
    from devices.serialproto import protocol

    try:
        proto = protocol(args.protocol)
    except KeyError as exc:
        return _fail(str(exc))
    if not 0 <= args.drop_rate < 1:
        return _fail("--drop-rate is a share of bytes between 0 and 1")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_simulate(proto, args))
    return 0


async def _simulate(proto: Any, args: argparse.Namespace) -> None:
    from devices.sim.serial_sim import SerialSimulator

    sim = SerialSimulator(proto, args.link, stream=True)
    sim.one_byte_at_a_time = args.one_byte
    sim.drop_rate = args.drop_rate
    sim.garbage_every = max(0, args.garbage_every)
    await sim.start()
    target = args.link.resolve()
    print(f"{proto.name} ({proto.line_settings}) on {target}, linked at {args.link}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()  # closes the pty and removes the symlink, as an unplug
