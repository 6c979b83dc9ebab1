"""A recording of each simulated BLE instrument (bleak on bluezoo, through the link's tap)
replays, without BlueZ, to the same readings as the live run."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devices.ble.link import BleLink
from devices.ble.profiles import PROFILES
from devices.capture import CaptureHeader, CaptureWriter, read_capture
from devices.config import InstrumentKind, InstrumentSettings
from devices.replay import replay
from devices.sim.ble_demo import play_one_reading
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS, poll
from tests.devices.ble.test_link import RecordingSink


@pytest.mark.parametrize("kind", sorted(PROFILES, key=lambda k: k.value))
async def test_a_ble_recording_replays_to_the_live_readings(
    make_peripheral: Callable[..., Any], tmp_path: Path, kind: InstrumentKind
) -> None:
    peripheral = await make_peripheral(kind)
    if kind is InstrumentKind.GLUCOMETER:
        peripheral.store_glucose(140, datetime(2026, 11, 20, 8, 30))  # an earlier patient's
    out = tmp_path / "capture.jsonl"
    writer = CaptureWriter(
        out, CaptureHeader("live", kind.value, "ble", address=PERIPHERAL_ADDRESS)
    )
    settings = InstrumentSettings(
        name="live", kind=kind, transport="ble", address=PERIPHERAL_ADDRESS
    )
    link, sink = BleLink(settings, adapter=CABIN_ADAPTER, tap=writer), RecordingSink()
    task = asyncio.create_task(link.run(sink), name="live-ble")
    try:
        await poll(lambda: sink.current in ("ready", "low_battery"), limit_s=20)
        rng = random.Random(3)
        await play_one_reading(peripheral, rng, step_s=0)
        if kind is InstrumentKind.GLUCOMETER:
            assert await link.request_measurement() is True
        await poll(sink.finals)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        writer.close()
    capture = read_capture(out)
    assert "2a19" in capture.header.characteristics  # the simulator has a battery
    result = await replay(capture, speed=0)
    # (in the order the link received them: bluezoo may reorder, the capture keeps it)
    assert result.measurements == sink.measurements and sink.finals()
