"""Scanning for health instruments (``kiosk devices scan``) against bluezoo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devices.ble.profiles import sig_uuid
from devices.ble.scan import FoundInstrument, kinds_advertised, scan_health_instruments
from devices.config import InstrumentKind
from tests.devices.ble.conftest import CABIN_ADAPTER, PERIPHERAL_ADDRESS


async def test_scan_finds_the_simulated_blood_pressure_monitor(
    make_peripheral: Callable[..., Any],
) -> None:
    await make_peripheral(InstrumentKind.BLOOD_PRESSURE, name="Tensio BLE")
    found = await scan_health_instruments(1.5, adapter=CABIN_ADAPTER)
    assert found == [
        FoundInstrument(PERIPHERAL_ADDRESS, "Tensio BLE", (InstrumentKind.BLOOD_PRESSURE,), 0)
    ]
    assert found[0].to_json()["kinds"] == ["blood_pressure"]


async def test_scan_with_nothing_around_finds_nothing(bluez: str) -> None:
    assert await scan_health_instruments(0.3, adapter=CABIN_ADAPTER) == []


def test_only_health_services_count() -> None:
    assert kinds_advertised([sig_uuid(0x1808), sig_uuid(0x180F), "1234"]) == (
        InstrumentKind.GLUCOMETER,
    )
    assert kinds_advertised([sig_uuid(0x180F)]) == ()


async def test_scan_duration_is_bounded() -> None:
    with pytest.raises(ValueError, match="between 0 and 120"):
        await scan_health_instruments(0)
