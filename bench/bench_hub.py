"""The hub under a fleet's load: N light cabins and M doctor consoles on one hub process.

The hub is a real ``kiosk hub run`` (SQLite in a temporary directory), measured from
outside: CPU (% of one core, all its threads) and RSS from /proc/<pid>, its descriptors.
The load runs in two other processes (bench/hub_load.py): the cabins (hello, heartbeats
at the configured period, status outbox items, patients arriving and leaving, answers to
the doctor's chat) and the doctors' consoles (/doctor/ws: the queue, a consultation for
one doctor in four, a chat message every few seconds from those). The fleet is created
straight in the database with the hub's own functions (bench/hub_fleet.py says which):
not through /cabin/enrol nor the password + TOTP login.

Figures, for the size asked and for one a tenth of it in the same invocation (compare the
ratios: the machine is shared):
- connections held (cabins, doctors) and drops; heartbeats/s the hub counted;
- a waiting-patient change (arrival or departure) reaching the consoles of every doctor
  serving the site: from the cabin's send to each console's receipt (time.time() on both
  sides; one machine clock), per delivery and until the last serving console has it;
- the signaling relay: doctor → cabin (chat → from_doctor) and cabin → doctor
  (to_doctor → the console);
- an outbox item to its ack, a heartbeat to its ack;
- hub CPU and RSS idle with every connection held (heartbeats only) and under load.

Run: .venv/bin/python bench/bench_hub.py [--cabins 2000] [--doctors 400] [--seconds 30]
     [--quick]
Prints figures; asserts nothing about time."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import platform
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_fleet import Shape, doctor_sites, hub_command, migrate, populate, write_config
from hub_proc import Window, measure, pct, raise_nofile, ratio, spread

LOAD_SCRIPT = Path(__file__).with_name("hub_load.py")
GC2 = 'hub_gc_%s{generation="2"}'  # the hub's full collections, in /metrics
START_TIMEOUT_S = 60.0  # the hub writes its runtime file once it serves
COMMAND_TIMEOUT_S = 300.0  # a load generator's answer (connecting 2,000 sockets included)
SETTLE_S = 2.0  # after the consultations are taken, before the idle window
GRACE_S = 3.0  # after the load stops: changes in flight reach the consoles
# The load (per cabin, per doctor in a consultation): see --help.
DEFAULT_LOAD = {"heartbeat_s": 5.0, "status_every_s": 30.0, "patient_every_s": 60.0,
                "chat_every_s": 2.0}  # fmt: skip


class Generator:
    """A load-generator process, driven one command a line."""

    def __init__(self, role: str, proc: asyncio.subprocess.Process, out: Path) -> None:
        self.role, self.proc, self.out = role, proc, out

    @classmethod
    async def start(cls, role: str, plan: Path, out: Path) -> Generator:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(LOAD_SCRIPT), role, str(plan), str(out),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(role, proc, out)

    async def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), COMMAND_TIMEOUT_S)
        if not line:
            raise RuntimeError(f"the {self.role} generator exited on {command!r}")
        return line.decode().strip()

    async def report(self) -> dict[str, Any]:
        await self.ask("report")
        await asyncio.wait_for(self.proc.wait(), 30)
        figures: dict[str, Any] = json.loads(self.out.read_text())
        return figures

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@dataclasses.dataclass
class Run:
    shape: Shape
    connect_s: dict[str, float]
    rss_start_mib: float
    idle: Window
    load: Window
    heartbeats_idle: float  # per second, the hub's own count
    heartbeats_load: float
    hub_metrics: dict[str, float]
    cabins: dict[str, Any]
    doctors: dict[str, Any]
    queue: dict[str, Any]
    hub_log: dict[str, Any]
    hub_alive: bool


async def metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with http.get(url + "/metrics") as resp:
        text = await resp.text()
    return {  # a labelled one as name{label="value"}
        m.group(1) + (m.group(2) or ""): float(m.group(3))
        for m in re.finditer(r"^(hub_\w+)(\{[^}]*\})? ([0-9.e+-]+)$", text, re.MULTILINE)
    }


async def start_hub(folder: Path, config: Path) -> tuple[asyncio.subprocess.Process, str]:
    runtime = folder / "runtime.json"
    log = (folder / "hub.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        *hub_command()[0], "run", "--config", str(config), "--runtime-file", str(runtime),
        stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not runtime.exists():
        if proc.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the hub did not start: {(folder / 'hub.log').read_text()}")
        await asyncio.sleep(0.05)
    return proc, json.loads(runtime.read_text())["url"]


def queue_figures(
    shape: Shape, changes: list[list[Any]], receipts: list[list[Any]]
) -> dict[str, Any]:
    """Joins the cabins' changes with the consoles' receipts."""
    serving: collections.Counter[str] = collections.Counter()
    for d in range(shape.doctors):
        serving.update(doctor_sites(shape, d))
    sent = {(c, s, kind): (site, t) for c, site, s, kind, t in changes}
    delivery: list[float] = []
    reached: dict[tuple[str, str, str], list[float]] = collections.defaultdict(list)
    unmatched = 0
    for c, s, kind, _doctor, t in receipts:
        key = (c, s, kind)
        if key not in sent:
            unmatched += 1
            continue
        delivery.append(t - sent[key][1])
        reached[key].append(t)
    every = [
        max(ts) - sent[key][1] for key, ts in reached.items() if len(ts) >= serving[sent[key][0]]
    ]
    return {
        "changes": len(sent),
        "expected": sum(serving[site] for site, _ in sent.values()),
        "delivered": len(delivery),
        "unmatched": unmatched,
        "delivery": delivery,
        "every": every,
        "complete": len(every),
    }


def read_hub_log(path: Path) -> dict[str, Any]:
    counts: collections.Counter[str] = collections.Counter()
    samples: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            counts["other"] += 1  # a traceback's lines
            continue
        level = entry.get("level", "?")
        counts[level] += 1
        if level in ("warning", "error", "critical") and len(samples) < 5:
            samples.append(f"{level}: {entry.get('msg', '')[:160]}")
    return {"counts": dict(counts), "samples": samples}


async def one_run(
    shape: Shape, seconds: float, idle_s: float, load: dict[str, float], keep: Path | None
) -> Run:
    """A hub and its load; with ``keep``, the hub's log (and py-spy's profile) kept there."""
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        folder = Path(tmp)
        try:
            return await _run_in(folder, shape, seconds, idle_s, load, profile=keep is not None)
        finally:
            if keep is not None:
                keep_files(folder, keep, shape)


def keep_files(folder: Path, keep: Path, shape: Shape) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for name in ("hub.log", "py-spy.txt"):
        with contextlib.suppress(FileNotFoundError):
            shutil.copy(folder / name, keep / f"{shape.cabins}-{name}")


async def start_py_spy(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    """py-spy (pip install py-spy: a tool for profiling, not a dependency) on the hub
    for the load window: the stacks holding the GIL, in py-spy's raw (collapsed) form."""
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
        "--duration", str(round(seconds)), "--rate", "200", "--gil", "--nonblocking",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def _run_in(
    folder: Path,
    shape: Shape,
    seconds: float,
    idle_s: float,
    load: dict[str, float],
    *,
    profile: bool,
) -> Run:
    config = write_config(folder, shape, load["heartbeat_s"])
    migrate(config)
    plan = await populate(config, shape)
    hub, url = await start_hub(folder, config)
    rss_start = (await measure([hub.pid], 0.01)).rss_mib_end
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps({**plan, "url": url, "seed": 14, "load": load}))
    gens = [
        await Generator.start(role, plan_file, folder / f"{role}.json")
        for role in ("cabins", "doctors")
    ]
    cabins, doctors = gens
    try:
        async with aiohttp.ClientSession() as http:
            connect_s = {}
            for gen in gens:  # cabins first: the doctors then see them online
                answer = json.loads((await gen.ask("connect")).split(" ", 1)[1])
                connect_s[gen.role] = answer["seconds"]
            await cabins.ask("consult")
            await doctors.ask("consult")
            await asyncio.sleep(SETTLE_S)
            pids = [hub.pid, cabins.proc.pid, doctors.proc.pid]
            m0 = await metrics(http, url)
            idle = await measure(pids, idle_s)
            m1 = await metrics(http, url)
            for gen in gens:
                await gen.ask("go")
            spy = await start_py_spy(hub.pid, seconds, folder / "py-spy.txt") if profile else None
            loaded = await measure(pids, seconds)
            if spy is not None:
                await spy.wait()
            m2 = await metrics(http, url)
            for gen in gens:
                await gen.ask("stop")
            await asyncio.sleep(GRACE_S)
            cabin_figures, doctor_figures = await cabins.report(), await doctors.report()
    finally:
        for gen in gens:
            await gen.kill()
        alive = hub.returncode is None
        if alive:
            hub.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.wait(), 15)
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
    return Run(
        shape=shape,
        connect_s=connect_s,
        rss_start_mib=rss_start,
        idle=idle,
        load=loaded,
        heartbeats_idle=(m1["hub_cabin_heartbeats"] - m0["hub_cabin_heartbeats"]) / idle.elapsed_s,
        heartbeats_load=(m2["hub_cabin_heartbeats"] - m1["hub_cabin_heartbeats"])
        / loaded.elapsed_s,
        hub_metrics=m2,
        cabins=cabin_figures,
        doctors=doctor_figures,
        queue=queue_figures(shape, cabin_figures["changes"], doctor_figures["receipts"]),
        hub_log=read_hub_log(folder / "hub.log"),
        hub_alive=alive,
    )


def rows(run: Run) -> list[tuple[str, str, float]]:
    """(label, figure as printed, figure the ratio column divides)."""
    c, d, q, n = run.cabins, run.doctors, run.queue, run.shape
    hub_idle, _, _ = run.idle.cpu_pct.values()
    hub, cab, doc = run.load.cpu_pct.values()
    per_conn = (run.idle.rss_mib_end - run.rss_start_mib) * 1024 / (n.cabins + n.doctors)
    held = run.hub_metrics.get("hub_cabins_connected", float("nan"))
    hub_log = run.hub_log["counts"]
    nan = float("nan")
    m = run.hub_metrics

    def p99(values: list[float]) -> float:
        return pct(values, 99)

    return [
        ("cabins held / dropped", f"{c['connected']}/{n.cabins} / {c['dropped']}",
         c["connected"]),
        ("doctors held / dropped", f"{d['connected']}/{n.doctors} / {d['dropped']}",
         d["connected"]),
        ("cabins the hub holds at the end", f"{held:.0f}", held),
        ("connecting cabins / doctors (s)",
         f"{run.connect_s['cabins']:.1f} / {run.connect_s['doctors']:.1f}",
         run.connect_s["cabins"]),
        ("consultations going on", f"{d['consultations']}", d["consultations"]),
        ("heartbeats/s the hub handled: idle / load",
         f"{run.heartbeats_idle:.0f} / {run.heartbeats_load:.0f}", run.heartbeats_load),
        ("hub CPU idle, connections held (% core)", f"{hub_idle:.1f}", hub_idle),
        ("hub CPU under load (% core)", f"{hub:.1f}", hub),
        ("hub RSS start / idle / load max (MiB)",
         f"{run.rss_start_mib:.0f} / {run.idle.rss_mib_end:.0f} / {run.load.rss_mib_max:.0f}",
         run.load.rss_mib_max),
        ("hub RSS per connection (KiB)", f"{per_conn:.0f}", per_conn),
        ("hub file descriptors (max)", f"{run.load.fds_max}", run.load.fds_max),
        ("queue changes sent (per s)",
         f"{q['changes']} ({q['changes'] / run.load.elapsed_s:.1f})", q["changes"]),
        ("queue deliveries received / expected", f"{q['delivered']}/{q['expected']}",
         q["delivered"]),
        ("change -> one console p50/p95/p99/max ms", spread(q["delivery"]), p99(q["delivery"])),
        ("change -> every serving console, ms", spread(q["every"]), p99(q["every"])),
        ("relay doctor -> cabin p50/p95/p99/max ms", spread(c["relay_d2c"]), p99(c["relay_d2c"])),
        ("relay cabin -> doctor p50/p95/p99/max ms", spread(d["relay_c2d"]), p99(d["relay_c2d"])),
        ("chats sent / reached cabin / came back",
         f"{d['chats_sent']} / {len(c['relay_d2c'])} / {len(d['relay_c2d'])}",
         len(d["relay_c2d"])),
        ("outbox item -> ack p50/p95/p99/max ms", spread(c["outbox_rtt"]), p99(c["outbox_rtt"])),
        ("heartbeat -> ack p50/p95/p99/max ms", spread(c["heartbeat_rtt"]),
         p99(c["heartbeat_rtt"])),
        ("load generators CPU cabins / doctors (%)", f"{cab:.0f} / {doc:.0f}", cab),
        ("their loop lag p99 cabins / doctors (ms)",
         f"{p99(c['lag']) * 1000:.1f} / {p99(d['lag']) * 1000:.1f}", nan),
        ("machine busy in load window (% all cores)", f"{run.load.machine_busy_pct:.0f}",
         run.load.machine_busy_pct),
        ("hub GC full collections / longest (ms), whole run",
         f"{m.get(GC2 % 'collections', nan):.0f} / "
         f"{m.get(GC2 % 'pause_max_seconds', nan) * 1000:.0f}",
         m.get(GC2 % "pause_max_seconds", nan)),
        ("writer: frames / transactions, whole run",
         f"{m.get('hub_writer_pieces', nan):.0f} / {m.get('hub_writer_transactions', nan):.0f}",
         m.get("hub_writer_pieces", nan)),
        ("hub's error answers to cabins / doctors", f"{c['errors']} / {d['errors']}", nan),
        ("hub log warnings / errors",
         f"{hub_log.get('warning', 0)} / {hub_log.get('error', 0)}", nan),
    ]  # fmt: skip


def print_table(runs: list[Run]) -> None:
    table = [rows(r) for r in runs]
    heads = [f"{r.shape.label} ({r.shape.sites} sites)" for r in runs]
    width = max(len(label) for label, _, _ in table[0]) + 2
    cols = [max(len(heads[j]), *(len(row[1]) for row in table[j])) + 2 for j in range(len(runs))]
    compare = len(runs) == 2
    head = "".join(h.rjust(w) for h, w in zip(heads, cols, strict=True))
    print("\n" + "figure".ljust(width) + head + ("   ratio" if compare else ""))
    for i, (label, _, _) in enumerate(table[0]):
        line = label.ljust(width) + "".join(table[j][i][1].rjust(cols[j]) for j in range(len(runs)))
        if compare:
            line += "   " + ratio(table[1][i][2], table[0][i][2])
        print(line)
    for run in runs:
        for what, gen in (("cabins", run.cabins), ("doctors", run.doctors)):
            for sample in gen["error_samples"]:
                print(f"  {run.shape.label} {what}: {sample}")
        for sample in run.hub_log["samples"]:
            print(f"  {run.shape.label} hub log {sample}")
        if not run.hub_alive:
            print(f"  {run.shape.label}: THE HUB DIED during the run")


def print_targets(run: Run) -> None:
    c, d, q = run.cabins, run.doctors, run.queue
    held = (c["connected"] == run.shape.cabins and d["connected"] == run.shape.doctors
            and c["dropped"] == 0 and d["dropped"] == 0)  # fmt: skip
    queue_p99 = pct(q["every"], 99) * 1000
    relay_p99 = max(pct(c["relay_d2c"], 99), pct(d["relay_c2d"], 99)) * 1000
    print(f"\nissue 14's targets at {run.shape.label} (this run):")
    print(f"  connections held, none dropped: {'met' if held else 'MISSED'}")
    print(f"  p99 status change → queue ≤ 100 ms: {queue_p99:.1f} ms, "
          f"{'met' if queue_p99 <= 100 else 'MISSED'}")  # fmt: skip
    print(f"  signaling relay p99 ≤ 20 ms (worse direction): {relay_p99:.1f} ms, "
          f"{'met' if relay_p99 <= 20 else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cabins", type=int, help="light cabins (default 2000; quick 200)")
    parser.add_argument("--doctors", type=int, help="doctor consoles (default 400; quick 40)")
    parser.add_argument("--seconds", type=float, help="load window (default 30; quick 8)")
    parser.add_argument("--idle-seconds", type=float, help="idle window (default 10; quick 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200/40 and 20/4")
    parser.add_argument("--no-compare", action="store_true", help="skip the tenth-size run")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep each run's hub log here, and a py-spy profile of its load window",
    )
    parser.add_argument("--heartbeat-s", type=float, default=DEFAULT_LOAD["heartbeat_s"])
    parser.add_argument("--status-every-s", type=float, default=DEFAULT_LOAD["status_every_s"])
    parser.add_argument("--patient-every-s", type=float,
                        default=DEFAULT_LOAD["patient_every_s"])  # fmt: skip
    parser.add_argument("--chat-every-s", type=float, default=DEFAULT_LOAD["chat_every_s"])
    args = parser.parse_args()
    cabins = args.cabins or (200 if args.quick else 2000)
    doctors = args.doctors or (40 if args.quick else 400)
    seconds = args.seconds or (8.0 if args.quick else 30.0)
    idle_s = args.idle_seconds or (3.0 if args.quick else 10.0)
    load = {"heartbeat_s": args.heartbeat_s, "status_every_s": args.status_every_s,
            "patient_every_s": args.patient_every_s, "chat_every_s": args.chat_every_s}  # fmt: skip
    big = Shape(cabins, doctors)
    shapes = (
        [big] if args.no_compare else [Shape(max(10, cabins // 10), max(4, doctors // 10)), big]
    )
    nofile = raise_nofile(cabins + doctors + 200)
    print(f"machine: {os.cpu_count()} CPU(s), Python {platform.python_version()}, aiohttp "
          f"{aiohttp.__version__}, SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL) in "
          f"{tempfile.gettempdir()}; {nofile}")  # fmt: skip
    print(f"load: heartbeat every {load['heartbeat_s']:g} s; each cabin a status every "
          f"~{load['status_every_s']:g} s and a patient arriving then leaving every "
          f"~{load['patient_every_s']:g} s; 1 doctor in 4 in a consultation, a chat every "
          f"{load['chat_every_s']:g} s; 10 cabins a site, each doctor 5 sites; idle window "
          f"{idle_s:g} s, load window {seconds:g} s")  # fmt: skip
    print(f"hub process: {hub_command()[1]}")
    print(
        "fleet created in the database with the hub's functions (add_cabin + enrol; "
        "add_account + open_session + second_factor_given), not over HTTP",
        flush=True,
    )
    runs = []
    for shape in shapes:
        print(f"running {shape.label} ({shape.sites} sites)...", flush=True)
        runs.append(asyncio.run(one_run(shape, seconds, idle_s, load, args.keep)))
    print_table(runs)
    print_targets(runs[-1])


if __name__ == "__main__":
    main()
