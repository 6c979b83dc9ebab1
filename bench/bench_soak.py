"""Months without a restart (issue 19, point 5): many consultations on ONE cabin daemon.

One ``kiosk run`` process (bench/soak_world.py: simulated instruments, the machine's CUPS
queue "PDF", the simulated lock, a short hygiene checklist) enrolled at a hub that runs as
a process of its own (``kiosk hub run``). Each consultation, one after another:

- the booking platform books a patient at the hub (a slot the cabin can check in now);
  the hub pushes it to the cabin;
- the patient checks in on the cabin's touchscreen API (code, identity, consent,
  questionnaire: hub/demo/people.py's ``check_in``) and waits;
- a doctor takes them at the hub's console, joins the call (WebRTC, peer to peer on this
  machine), asks for a blood-pressure measurement, signs a prescription that prints
  through CUPS, ends the consultation (bench/soak_doctor.py): headless Chromium every
  ``--chromium-every`` consultations, an aiohttp + aiortc console otherwise;
- the patient leaves; the referent logs in with the PIN and runs the checklist, each
  step confirmed once its contact time has run (``disinfect``); the cabin is idle again.

Every ``--every`` consultations (and once before the first) it prints the daemon's
resident memory, open descriptors, threads, asyncio tasks (the daemon's /metrics) and the
state database's size (cabin.sqlite3 + WAL), then each table's rows and what purges it.
Nothing about time is asserted (a shared, noisy machine); a consultation that fails stops
the soak with exit code 1.

The resident memory is printed whole and its anonymous part (the heaps): glibc gives
threads malloc arenas of their own (up to 8 per CPU) and their fragmentation grows the
heaps over the first tens of consultations before it levels off; ``--malloc-arena-max N``
runs the daemon with MALLOC_ARENA_MAX=N to compare.

Run: .venv/bin/python bench/bench_soak.py [--sessions 200] [--every 20]
     [--chromium-every 20] [--malloc-arena-max N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak_doctor import ChromiumDoctor, LightDoctor  # noqa: E402 - after the path
from soak_probe import Sample, sample  # noqa: E402
from soak_world import (  # noqa: E402
    BROWSER_DOCTOR,
    CABIN_ID,
    LIGHT_DOCTOR,
    PHANTOM_CABINS,
    SITE,
    SoakHub,
    start_cabin,
)

from hub.demo.people import CabinApi, check_in, disinfect  # noqa: E402
from kiosk.settings.storage import RetentionSettings  # noqa: E402
from tests.chromium import headless_chromium  # noqa: E402
from tests.e2e.world import stop_daemon  # noqa: E402
from tests.kiosk.process import DaemonProcess  # noqa: E402
from tests.printer.cups_env import cups_pdf_output_dir  # noqa: E402
from video.loopback import offer_loopback_candidates  # noqa: E402

CONSULTATION_TIMEOUT_S = 300.0  # one patient from booking to idle, with a slow print
STATE_TIMEOUT_S = 60.0
POLL_S = 0.1
SETTLE_S = 2.0  # after idle, before a sample: the call's teardown and the last writes
QUICK_SESSIONS = 20
QUICK_EVERY = 5
TARGET_RSS_MIB = 10.0  # growth after the first --every consultations (issue 19)

# What purges each table of cabin.sqlite3, and after how many days (kiosk/settings/storage.py
# RetentionSettings, applied in kiosk/daemon.py and printer/service.py); None: never.
_KEEP = RetentionSettings()
RETENTION: dict[str, tuple[float | None, str]] = {
    "appointments": (_KEEP.appointments_days, "retention.appointments_days after the slot"),
    "sessions": (_KEEP.sessions_days, "retention.sessions_days after the end"),
    "transitions": (_KEEP.sessions_days, "retention.sessions_days, with their sessions"),
    "print_documents": (_KEEP.prescriptions_days, "retention.prescriptions_days"),
    "hub_outbox": (0, "deleted when the hub acknowledges"),
    "hygiene_auth_failures": (0, "the 15-minute lockout window (hygiene/auth.py)"),
    "hygiene_log": (None, "retention.hygiene_log_years (5 y), once the hub acknowledged"),
}
PER_DAY = 20  # consultations a day of a busy cabin, for the steady state of each table


class Patient:
    """The patient and the referent at the cabin's touchscreen API."""

    def __init__(self, daemon: DaemonProcess) -> None:
        self.api = CabinApi(daemon.state_dir)

    async def wait_state(self, *states: str) -> str:
        try:
            async with asyncio.timeout(STATE_TIMEOUT_S):
                while (state := await self.api.state()) not in states:  # noqa: ASYNC110
                    await asyncio.sleep(POLL_S)  # another process's state: polled
                return state
        except TimeoutError:
            status = await self.api.get("/api/status")
            raise RuntimeError(f"the cabin is not {'/'.join(states)}: {status}") from None


async def consultation(hub: SoakHub, patient: Patient, doctor: LightDoctor | ChromiumDoctor) -> str:
    """One patient, from the booking to the cabin idle again; the printed document's id."""
    await patient.wait_state("idle")
    booked = await hub.book_next()
    await check_in(patient.api, booked.person, booked.code)
    await patient.wait_state("waiting")
    if isinstance(doctor, ChromiumDoctor):

        async def cabin_state(state: str) -> None:
            await patient.wait_state(state)

        document_id = await doctor.consult(CABIN_ID, booked.person, cabin_state)
    else:
        document_id = await doctor.consult(CABIN_ID, booked.person)
    await patient.wait_state("checkout")
    await patient.api.post("/api/ui/leave")
    await patient.wait_state("awaiting_disinfection")
    await disinfect(patient.api)
    await patient.wait_state("idle")
    return document_id


@contextlib.asynccontextmanager
async def maybe_chromium(wanted: bool) -> AsyncIterator[Any]:
    if not wanted:
        yield None
        return
    async with headless_chromium() as browser:
        yield browser


def mib(kib: int) -> float:
    return kib / 1024


HEADER = (
    f"{'sessions':>8} {'elapsed':>8} {'RSS MiB':>8} {'anon':>6} {'fds':>5} {'threads':>7} "
    f"{'tasks':>5} {'superv.':>7} {'DB KiB':>7} {'WAL KiB':>7}"
)


def row(s: Sample) -> str:
    return (
        f"{s.sessions:>8} {s.elapsed_s:>7.0f}s {mib(s.rss_kib):>8.1f} {mib(s.anon_kib):>6.1f} "
        f"{s.fds:>5} {s.threads:>7} {s.loop_tasks:>5} {s.supervised_tasks:>7} "
        f"{s.db_bytes / 1024:>7.0f} {s.wal_bytes / 1024:>7.0f}"
    )


def remove_printed(document_ids: list[str]) -> int:
    """The soak's cups-pdf files (named after the document id), nobody else's."""
    out = cups_pdf_output_dir()
    removed = 0
    for doc in document_ids:
        for path in out.glob(f"kiosk_prescription_{doc}-job_*.pdf"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def summary(samples: list[Sample], every: int, durations: list[float]) -> None:
    first, last = samples[0], samples[-1]
    base = next((s for s in samples if s.sessions >= every), first)
    print()
    growth = mib(last.rss_kib - base.rss_kib)
    verdict = "within" if growth <= TARGET_RSS_MIB else "OVER"
    print(
        f"RSS: {mib(first.rss_kib):.1f} MiB at start, {mib(base.rss_kib):.1f} after "
        f"{base.sessions}, {mib(last.rss_kib):.1f} after {last.sessions}: "
        f"{growth:+.1f} MiB after the first {base.sessions} ({verdict} the "
        f"{TARGET_RSS_MIB:.0f} MiB target)"
    )
    for name in ("fds", "threads", "loop_tasks", "supervised_tasks"):
        values = [getattr(s, name) for s in samples if s.sessions >= base.sessions]
        print(
            f"{name}: {getattr(first, name)} at start, {min(values)}–{max(values)} "
            f"from {base.sessions} on, {getattr(last, name)} at the end"
        )
    grown = (last.db_bytes + last.wal_bytes) - (base.db_bytes + base.wal_bytes)
    per = grown / max(1, last.sessions - base.sessions)
    print(
        f"state DB: {(last.db_bytes + last.wal_bytes) / 1024:.0f} KiB "
        f"(+{grown / 1024:.0f} KiB after the first {base.sessions}, {per:.0f} B/consultation)"
    )
    print()
    tables(first, last)
    if durations:
        ordered = sorted(durations)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print()
        print(
            f"consultation (booking → idle): median {statistics.median(durations):.1f} s, "
            f"p95 {p95:.1f} s, max {max(durations):.1f} s"
        )


def tables(first: Sample, last: Sample) -> None:
    """Rows and bytes of each table, and what each would hold at PER_DAY consultations a day
    once its retention has run (the state DB's bound)."""
    done = max(1, last.sessions - first.sessions)
    print(
        f"{'table':<22} {'rows':>11} {'KiB':>6} {'B/cons.':>7}  "
        f"{'steady KiB':>10}  purged (at {PER_DAY}/day)"
    )
    bound = 0.0
    for table in sorted(last.rows):
        rows = f"{first.rows.get(table, 0)}→{last.rows[table]}"
        size = last.table_bytes.get(table, 0)
        grown = max(0, size - first.table_bytes.get(table, 0))
        per = grown / done
        days, what = RETENTION.get(table, (0, "one row, or a cursor"))
        if days is None:
            steady = f"{per * PER_DAY * 365 / 1024:>6.0f}/year"
        else:
            kept = per * PER_DAY * days + first.table_bytes.get(table, 0)
            bound += kept
            steady = f"{kept / 1024:>10.0f}"
        print(f"{table:<22} {rows:>11} {size / 1024:>6.0f} {per:>7.0f}  {steady:>10}  {what}")
    print(f"bounded tables at {PER_DAY}/day: about {bound / 2**20:.1f} MiB, plus the WAL")


def log_findings(daemon: DaemonProcess) -> None:
    lines = daemon.output().splitlines()
    bad = [ln for ln in lines if '"ERROR"' in ln or '"CRITICAL"' in ln or "Traceback" in ln]
    warnings = [ln for ln in lines if '"WARNING"' in ln]
    print(f"daemon log: {len(lines)} lines, {len(warnings)} warnings, {len(bad)} errors")
    for line in bad[:5]:
        print("  " + line[:300])


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-soak-"))
        self.hub = SoakHub(self.root / "hub")
        self.daemon: DaemonProcess | None = None
        self.light: LightDoctor | None = None
        self.printed: list[str] = []
        self.durations: list[float] = []
        self.samples: list[Sample] = []
        self.failed = False
        self.t_start = time.monotonic()

    async def run(self) -> int:
        offer_loopback_candidates(True)  # the aiortc doctor on this machine, as the cabin
        try:
            await self.set_up()
            await self.consultations()
            if self.samples:
                summary(self.samples, self.args.every, self.durations)
            took = time.monotonic() - self.t_start
            print(f"run took {took / 60:.1f} min ({len(self.durations)} consultations)")
        finally:
            await self.tear_down()
        return 1 if self.failed else 0

    async def set_up(self) -> None:
        hub = self.hub
        await hub.prepare({LIGHT_DOCTOR: [SITE], BROWSER_DOCTOR: [SITE]})
        await hub.add_phantoms(PHANTOM_CABINS)
        hub.start()
        env = {}
        if self.args.malloc_arena_max:
            env["MALLOC_ARENA_MAX"] = str(self.args.malloc_arena_max)
        self.daemon = await start_cabin(hub, self.root, env)
        await Patient(self.daemon).wait_state("idle")
        self.light = LightDoctor(hub.url, LIGHT_DOCTOR)
        await self.light.open()
        print(
            f"soak: {self.args.sessions} consultations on one cabin daemon "
            f"(pid {self.daemon.proc.pid}), a Chromium doctor every "
            f"{self.args.chromium_every or 'never'}, figures every {self.args.every}"
            + (f", MALLOC_ARENA_MAX={env['MALLOC_ARENA_MAX']}" if env else "")
        )
        print(HEADER, flush=True)

    async def take_sample(self, done: int) -> None:
        daemon = self.daemon
        assert daemon is not None
        await asyncio.sleep(SETTLE_S)
        elapsed = time.monotonic() - self.t_start
        s = await sample(daemon.proc.pid, daemon.url, daemon.state_dir, done, elapsed)
        self.samples.append(s)
        print(row(s), flush=True)

    async def consultations(self) -> None:
        args, light, daemon = self.args, self.light, self.daemon
        assert light is not None and daemon is not None
        patient = Patient(daemon)
        await self.take_sample(0)
        every = args.chromium_every
        async with maybe_chromium(0 < every <= args.sessions) as browser:
            chromium = (
                None if browser is None else ChromiumDoctor(browser, self.hub.url, BROWSER_DOCTOR)
            )
            for n in range(1, args.sessions + 1):
                doctor: LightDoctor | ChromiumDoctor = light
                if chromium is not None and n % every == 0:
                    doctor = chromium
                t0 = time.monotonic()
                try:
                    async with asyncio.timeout(CONSULTATION_TIMEOUT_S):
                        self.printed.append(await consultation(self.hub, patient, doctor))
                except (Exception, TimeoutError) as exc:
                    self.failed = True
                    print(f"consultation {n} ({type(doctor).__name__}) FAILED: {exc!r}")
                    return
                self.durations.append(time.monotonic() - t0)
                if n % args.every == 0 or n == args.sessions:
                    await self.take_sample(n)

    async def tear_down(self) -> None:
        if self.light is not None:
            await self.light.close()
        if self.daemon is not None:
            log_findings(self.daemon)
            tail = stop_daemon(self.daemon)
            if self.failed:
                print(tail[-4000:])
        self.hub.stop()
        if self.failed:
            print(self.hub.output()[-3000:])
        print(f"removed {remove_printed(self.printed)} printed PDF(s) of the soak")
        offer_loopback_candidates(False)
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=200, help="consultations (200)")
    parser.add_argument("--every", type=int, default=20, help="figures every N (20)")
    parser.add_argument(
        "--chromium-every", type=int, default=20, help="a Chromium doctor every N (20; 0: never)"
    )
    parser.add_argument(
        "--malloc-arena-max",
        type=int,
        default=0,
        metavar="N",
        help="the daemon's MALLOC_ARENA_MAX (default: glibc's own, 8 arenas per CPU)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run: {QUICK_SESSIONS} consultations, figures every {QUICK_EVERY}",
    )
    args = parser.parse_args()
    if args.quick:
        args.sessions, args.every = QUICK_SESSIONS, QUICK_EVERY
        args.chromium_every = min(args.chromium_every, QUICK_EVERY) or 0
    if args.sessions < 1 or args.every < 1 or min(args.chromium_every, args.malloc_arena_max) < 0:
        parser.error("--sessions and --every must be positive, the others 0 or more")
    cups = subprocess.run(["lpstat", "-r"], capture_output=True, text=True, check=False)
    if "is running" not in cups.stdout:
        parser.error("the CUPS scheduler is not running: run `make cups`")
    return asyncio.run(Soak(args).run())


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
