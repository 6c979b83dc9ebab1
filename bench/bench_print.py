"""Prescription printing figures: render time (1 page, 3 pages) and send-to-completed
time on the real CUPS cups-pdf queue "PDF".

    .venv/bin/python bench/bench_print.py [--runs N] [--jobs N] [--printer NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub.shared.prescription import parse_prescription  # noqa: E402
from printer.config import PrinterSettings  # noqa: E402
from printer.cups_client import JOB_COMPLETED, CupsClient  # noqa: E402
from printer.render import render_prescription  # noqa: E402

SAMPLE = REPO / "printer" / "samples" / "prescription.json"
JOB_TIMEOUT_S = 60.0


def pages(pdf: bytes) -> int:
    done = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    for line in done.stdout.decode().splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


def bench_render(data: dict[str, Any], runs: int) -> tuple[float, int]:
    rx = parse_prescription(data)
    render_prescription(rx)  # fonts loaded once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render_prescription(rx)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, pages(pdf)


async def send_once(client: CupsClient, pdf: bytes) -> float:
    start = time.perf_counter()
    job_id = await client.create_job(f"kiosk bench {uuid.uuid4().hex[:8]}")
    await client.send_document(job_id, pdf)
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        info = await client.job(job_id)
        if info is not None and info.final:
            if info.state != JOB_COMPLETED:
                raise RuntimeError(f"job {job_id} ended in state {info.state}")
            return time.perf_counter() - start
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not complete")
        await asyncio.sleep(0.02)


async def bench_send(pdf: bytes, jobs: int, queue: str) -> list[float]:
    settings = PrinterSettings(queue=queue)
    client = CupsClient(settings.queue, settings.cups_server, settings.job_options)
    status = await client.printer_status()
    if not status.ready:
        raise SystemExit(f"queue {queue} cannot print now ({status.state}): run make cups")
    return [await send_once(client, pdf) for _ in range(jobs)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--printer", default="PDF")
    args = parser.parse_args()

    one = json.loads(SAMPLE.read_text(encoding="utf-8"))
    three = copy.deepcopy(one)
    three["items"] = three["items"] * 7
    ms1, p1 = bench_render(one, args.runs)
    ms3, p3 = bench_render(three, args.runs)
    print(f"render, {p1} page:  median {ms1:.1f} ms over {args.runs} runs")
    print(f"render, {p3} pages: median {ms3:.1f} ms over {args.runs} runs")

    pdf = render_prescription(parse_prescription(one))
    times = asyncio.run(bench_send(pdf, args.jobs, args.printer))
    print(
        f"send -> completed on CUPS queue {args.printer} (1 page): median "
        f"{statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f}, "
        f"max {max(times) * 1000:.0f} over {args.jobs} jobs"
    )
    # cups-pdf names its files after the job title: remove the benchmark's copies.
    for path in (Path.home() / "PDF").glob("kiosk_bench_*.pdf"):
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
