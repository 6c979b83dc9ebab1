"""Fixtures for the printer tests: sample prescriptions, a cabin context, real CUPS."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.shared.tasks import TaskSupervisor
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus, Subscription
from kiosk.component import Context
from kiosk.events import PrintJobUpdated
from kiosk.lifecycle import Lifecycle, LifecycleStore
from kiosk.settings import CabinSettings, load_settings
from printer.service import PrinterService
from tests import polling
from tests.cabin_toml import base_toml
from tests.printer.cups_env import PrivateCups, pdf_text

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "printer" / "samples" / "prescription.json"
# Lucas Martin, 7 years old on the day it is issued, 21.4 kg and 122.5 cm.
CHILD_SAMPLE = REPO / "printer" / "samples" / "prescription-enfant.json"

PRINTER_TOML = """
[printer]
{printer}
"""

PRINTER_DEFAULTS: dict[str, Any] = {
    "queue": "PDF",
    "retry_initial_s": 0.2,
    "retry_max_s": 1.0,
    "poll_interval_s": 0.1,
    "status_interval_s": 0.5,
    "job_timeout_s": 60,
}


def sample_prescription(path: Path = SAMPLE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def child_prescription() -> dict[str, Any]:
    return sample_prescription(CHILD_SAMPLE)


def text_of(pdf: bytes, tmp_path: Path, name: str = "out.pdf") -> str:
    """The text pdftotext reads out of the PDF bytes."""
    path = tmp_path / name
    path.write_bytes(pdf)
    return pdf_text(path)


@pytest.fixture
def prescription() -> dict[str, Any]:
    """The sample with a unique number, so printed copies of this test can be counted."""
    data = copy.deepcopy(sample_prescription())
    data["number"] = f"TEST-{uuid.uuid4().hex[:12].upper()}"
    return data


def write_cabin_config(tmp_path: Path, cups_server: str | None, **printer: Any) -> Path:
    values = {**PRINTER_DEFAULTS, **printer}
    if cups_server:
        values["cups_server"] = cups_server
    lines = [
        f"{key} = {json.dumps(value)}" for key, value in values.items() if key != "job_options"
    ]
    if "job_options" in values:
        pairs = ", ".join(
            f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values["job_options"].items()
        )
        lines.append(f"job_options = {{ {pairs} }}")
    path = tmp_path / "cabin.toml"
    path.write_text(
        base_toml(tmp_path / "state", cabin_id="print-test")
        + PRINTER_TOML.format(printer="\n".join(lines)),
        encoding="utf-8",
    )
    return path


def make_context(settings: CabinSettings) -> Context:
    settings.storage.state_dir.mkdir(parents=True, exist_ok=True)
    bus = EventBus()
    lifecycle = Lifecycle(LifecycleStore(settings.storage.database), bus)
    return Context(
        settings=settings,
        bus=bus,
        lifecycle=lifecycle,
        appointments=AppointmentStore(settings.storage.database),
        tasks=TaskSupervisor(),
        ui_token="ui-test-token",
    )


StartService = Callable[..., Awaitable[PrinterService]]


@pytest.fixture
async def start_service(tmp_path: Path) -> AsyncIterator[StartService]:
    """Starts the real printer component on a cabin context (CUPS server given or local)."""
    started: list[tuple[PrinterService, Context]] = []

    async def start(cups_server: str | None, **printer: Any) -> PrinterService:
        settings = load_settings(write_cabin_config(tmp_path, cups_server, **printer))
        ctx = make_context(settings)
        service = PrinterService(ctx)
        ctx.components[service.name] = service
        await service.start()
        started.append((service, ctx))
        return service

    yield start
    for service, ctx in reversed(started):
        await service.stop()
        await ctx.tasks.cancel_all(grace_s=1.0)
        ctx.appointments.close()
        ctx.lifecycle.store.close()


def system_cups_ready() -> bool:
    if shutil.which("lpstat") is None:
        return False
    out = subprocess.run(["lpstat", "-p", "PDF"], capture_output=True, text=True, check=False)
    return out.returncode == 0


needs_system_cups = pytest.mark.skipif(
    not system_cups_ready(), reason="the CUPS queue PDF is missing: run scripts/setup-cups.sh"
)
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="a private cupsd with cups-pdf needs root"
)


def _running_cups(*, fake_printer: bool) -> Iterator[PrivateCups]:
    # cupsd's socket path must stay short (sun_path is 108 bytes).
    root = Path(f"/tmp/kiosk-cups-{uuid.uuid4().hex[:8]}")
    cups = PrivateCups(root, fake_printer=fake_printer)
    try:
        cups.start()
        yield cups
    finally:
        cups.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_cups() -> Iterator[PrivateCups]:
    """A private cupsd with the cups-pdf queue PDF."""
    yield from _running_cups(fake_printer=False)


@pytest.fixture
def fake_cups() -> Iterator[PrivateCups]:
    """A private cupsd with a FAKE queue whose paper, jam or door the test controls."""
    yield from _running_cups(fake_printer=True)


@pytest.fixture
def test_start() -> float:
    return time.time()


async def until(predicate: Callable[[], bool], within: float, what: str) -> None:
    """Polls ``predicate`` until true; fails after ``within`` seconds."""
    await polling.until(predicate, within, what)


class EventLog:
    """Collects PrintJobUpdated events; a state is committed before it is announced, so
    tests that look at events wait for the event itself."""

    def __init__(self, sub: Subscription[PrintJobUpdated]) -> None:
        self.sub = sub
        self.seen: list[PrintJobUpdated] = []

    def _drain(self) -> None:
        while (event := self.sub.get_nowait()) is not None:
            self.seen.append(event)

    async def wait_for(self, state: str, within: float = 60.0) -> PrintJobUpdated:
        def arrived() -> bool:
            self._drain()
            return any(e.state == state for e in self.seen)

        await until(arrived, within, f"a {state} event")
        return next(e for e in self.seen if e.state == state)

    @property
    def states(self) -> list[str]:
        self._drain()
        return [e.state for e in self.seen]


@pytest.fixture
def event_log() -> Iterator[Callable[[PrinterService], EventLog]]:
    logs: list[EventLog] = []

    def make(service: PrinterService) -> EventLog:
        log = EventLog(service.ctx.bus.subscribe(PrintJobUpdated))
        logs.append(log)
        return log

    yield make
    for log in logs:
        log.sub.close()
