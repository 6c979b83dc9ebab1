"""bench_hub's measures from outside a process (/proc) and its figures' arithmetic.

CPU is user + system time from /proc/<pid>/stat (every thread of the process, aiosqlite's
included), as % of one core over a window; memory is VmRSS; descriptors are the entries of
/proc/<pid>/fd. The machine's busy share comes from /proc/stat, for contention: the box is
shared, and the load generators run on the same two cores as the hub."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import resource
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
SAMPLE_EVERY_S = 0.5


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


@dataclasses.dataclass
class Window:
    """CPU of some processes and the machine, RSS and fds of the first, over a window."""

    elapsed_s: float
    cpu_pct: dict[int, float]  # pid → % of one core
    rss_mib_max: float
    rss_mib_end: float
    fds_max: int
    machine_busy_pct: float  # of all cores


async def measure(pids: list[int], seconds: float) -> Window:
    """Samples ``pids`` for ``seconds`` (the first pid's memory and descriptors)."""
    first = pids[0]
    cpu0 = {pid: cpu_s(pid) for pid in pids}
    busy0, total0 = machine_ticks()
    t0 = time.monotonic()
    rss_max, fds_max = rss_mib(first), fds(first)
    while (left := seconds - (time.monotonic() - t0)) > 0:
        await asyncio.sleep(min(SAMPLE_EVERY_S, left))
        rss_max, fds_max = max(rss_max, rss_mib(first)), max(fds_max, fds(first))
    elapsed = time.monotonic() - t0
    busy1, total1 = machine_ticks()
    return Window(
        elapsed_s=elapsed,
        cpu_pct={pid: 100 * (cpu_s(pid) - cpu0[pid]) / elapsed for pid in pids},
        rss_mib_max=rss_max,
        rss_mib_end=rss_mib(first),
        fds_max=fds_max,
        machine_busy_pct=100 * (busy1 - busy0) / max(1, total1 - total0),
    )


def raise_nofile(needed: int) -> str:
    """Raises the soft RLIMIT_NOFILE (inherited by the hub and the load generators) up to
    the hard limit; says what it was and what it is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = soft
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    note = f"RLIMIT_NOFILE soft {soft} → {target}" if target != soft else f"RLIMIT_NOFILE {soft}"
    note += f" (hard {hard}, about {needed} needed per process)"
    if target < needed:
        note += ": NOT ENOUGH, sockets will be refused"
    return note


# ---- figures ----
def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: list[float], ps: tuple[float, ...] = (50, 95, 99, 100)) -> str:
    """'p50 / p95 / p99 / max' in ms, from seconds."""
    if not values:
        return "-"
    return " / ".join(f"{pct(values, p) * 1000:.1f}" for p in ps)


def ratio(big: float, small: float) -> str:
    if math.isnan(big) or math.isnan(small) or small == 0:
        return "-"
    return f"{big / small:.2f}x"
