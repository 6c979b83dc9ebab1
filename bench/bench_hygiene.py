"""Hygiene figures: argon2 PIN verification, log append latency (one chained entry +
the session's release in one WAL transaction, synchronous=FULL), chain verification speed.

Run: .venv/bin/python bench/bench_hygiene.py [--entries 2000]
Prints figures only; the machine is shared, so compare rows within one run."""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hygiene import log as hlog
from hygiene.auth import hash_pin, pin_matches
from kiosk.db import connect
from kiosk.lifecycle.store import SCHEMA as LIFECYCLE_SCHEMA


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def bench_argon2(rounds: int = 20) -> None:
    h = hash_pin("1234")
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        pin_matches(h, "1234")
        times.append((time.perf_counter() - t) * 1000)
    print(f"argon2id verify (m=64 MiB, t=3, p=4): median {statistics.median(times):.1f} ms")


def bench_append(db: Path, n: int) -> None:
    conn = connect(db)
    conn.executescript(LIFECYCLE_SCHEMA)
    hlog.ensure_schema(conn)
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    times = []
    for i in range(n):
        session = f"s{i:08d}"
        at = t0 + timedelta(minutes=i)
        conn.execute(
            "INSERT INTO sessions (id, started_at) VALUES (?, ?)", (session, at.isoformat())
        )
        draft = hlog.EntryDraft(
            cabin_id="bench-01", session_id=session, referent_id="r", referent_name="Référente",
            outcome="disinfected", started_at=at, ended_at=at,
            steps=[{"id": f"step{k}", "label_fr": "Étape", "status": "confirmed",
                    "started_at": at.isoformat(), "confirmed_at": at.isoformat(),
                    "consumables": []} for k in range(8)],
            instruments_cleaned=["tensiometre", "thermometre"],
            consumables_replaced=["protège-sonde"], anomalies=[],
        )  # fmt: skip
        t = time.perf_counter()
        hlog.append(conn, draft)
        times.append((time.perf_counter() - t) * 1000)
    conn.close()
    print(
        f"append (entry + mark_disinfected, 1 transaction, fsync): p50 {pct(times, 0.5):.2f} ms,"
        f" p99 {pct(times, 0.99):.2f} ms over {n}"
    )


def bench_verify(db: Path, n: int) -> None:
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    result = hlog.verify(conn)
    elapsed = time.perf_counter() - t
    conn.close()
    assert result.ok and result.entries == n, result
    print(f"verify: {n} entries in {elapsed * 1000:.0f} ms ({n / elapsed:,.0f} entries/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    bench_argon2()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cabin.sqlite3"
        bench_append(db, args.entries)
        bench_verify(db, args.entries)


if __name__ == "__main__":
    main()
