"""bench_soak's readings of the cabin daemon process, from outside it.

- resident memory (VmRSS in /proc/PID/status, and its anonymous part RssAnon: the heaps;
  the rest is mostly shared libraries' pages read in as code runs), open descriptors
  (/proc/PID/fd), threads (/proc/PID/task);
- asyncio tasks from the daemon's /metrics: ``kiosk_asyncio_tasks`` (every task of its
  loop, whoever made it; the scrape's own handler is one of them) and
  ``kiosk_tasks_running`` (the daemon's supervised background tasks);
- the state database: cabin.sqlite3 and its WAL (bytes), and each table's rows and bytes
  (its pages and its indexes', from SQLite's dbstat; a read-only connection: SQLite in WAL
  mode lets a reader in beside the daemon)."""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

DATABASE = "cabin.sqlite3"


@dataclass(frozen=True)
class Sample:
    sessions: int
    elapsed_s: float
    rss_kib: int
    anon_kib: int
    fds: int
    threads: int
    loop_tasks: int
    supervised_tasks: int
    db_bytes: int
    wal_bytes: int
    rows: dict[str, int] = field(default_factory=dict)
    table_bytes: dict[str, int] = field(default_factory=dict)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and RssAnon from /proc/PID/status, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon"):
            found[name] = int(value.split()[0])
    if len(found) != 2:
        raise RuntimeError(f"no VmRSS/RssAnon for {pid}")
    return found


def count(folder: str) -> int:
    return len(os.listdir(folder))


async def metrics(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as resp:
        text = await resp.text()
    found: dict[str, float] = {}
    for name in ("kiosk_asyncio_tasks", "kiosk_tasks_running"):
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"{name} is not in the daemon's /metrics")
        found[name] = float(match.group(1))
    return found


def tables(state_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Each table's rows, and its bytes with its indexes'."""
    conn = sqlite3.connect(f"file:{state_dir / DATABASE}?mode=ro", uri=True, timeout=10)
    try:
        owner = {
            str(name): str(table)
            for name, table in conn.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
            )
        }
        names = sorted({t for t in owner.values() if not t.startswith("sqlite_")})
        rows = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in names}
        size = dict.fromkeys(names, 0)
        for name, pages in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(str(name), "")
            if table in size:
                size[table] += int(pages)
        return rows, size
    finally:
        conn.close()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


async def sample(pid: int, url: str, state_dir: Path, sessions: int, elapsed_s: float) -> Sample:
    found = await metrics(url)
    memory = memory_kib(pid)
    rows, size = tables(state_dir)
    return Sample(
        sessions=sessions,
        elapsed_s=elapsed_s,
        rss_kib=memory["VmRSS"],
        anon_kib=memory["RssAnon"],
        fds=count(f"/proc/{pid}/fd"),
        threads=count(f"/proc/{pid}/task"),
        loop_tasks=int(found["kiosk_asyncio_tasks"]),
        supervised_tasks=int(found["kiosk_tasks_running"]),
        db_bytes=file_size(state_dir / DATABASE),
        wal_bytes=file_size(state_dir / f"{DATABASE}-wal"),
        rows=rows,
        table_bytes=size,
    )
