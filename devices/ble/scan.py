"""Find the Bluetooth LE instruments around the cabin (for ``kiosk devices scan``): devices
advertising one of the health services the cabin reads."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from devices.ble.profiles import PROFILES
from devices.config import InstrumentKind

# How long a technician's scan listens by default: instruments advertise every 0.1-2 s
# while awake, so a few seconds sees every one that is switched on.
DEFAULT_SCAN_S = 5.0

# Starting and stopping discovery are D-Bus calls to BlueZ, normally a few milliseconds.
SCANNER_CONTROL_TIMEOUT_S = 10.0

_KIND_OF_SERVICE = {profile.service: kind for kind, profile in PROFILES.items()}


@dataclasses.dataclass(frozen=True)
class FoundInstrument:
    address: str
    name: str
    kinds: tuple[InstrumentKind, ...]  # from the health services it advertises
    rssi: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "name": self.name,
            "kinds": [k.value for k in self.kinds],
            "rssi": self.rssi,
        }


def kinds_advertised(service_uuids: list[str]) -> tuple[InstrumentKind, ...]:
    kinds = {_KIND_OF_SERVICE[u.lower()] for u in service_uuids if u.lower() in _KIND_OF_SERVICE}
    return tuple(sorted(kinds))


async def scan_health_instruments(
    duration_s: float = DEFAULT_SCAN_S, *, adapter: str | None = None
) -> list[FoundInstrument]:
    """Listen for ``duration_s``; every device advertising a health service, by address."""
    if not 0 < duration_s <= 120:
        raise ValueError(f"scan duration must be between 0 and 120 s, not {duration_s}")
    found: dict[str, FoundInstrument] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        kinds = kinds_advertised(adv.service_uuids)
        if kinds:
            name = adv.local_name or device.name or ""
            found[device.address.upper()] = FoundInstrument(
                device.address.upper(), name, kinds, adv.rssi
            )

    bluez: Any = {"adapter": adapter} if adapter else {}
    async with (
        asyncio.timeout(duration_s + SCANNER_CONTROL_TIMEOUT_S),
        BleakScanner(detection_callback=on_advertisement, bluez=bluez),
    ):
        await asyncio.sleep(duration_s)  # listening is the point: nothing to wait for
    return sorted(found.values(), key=lambda f: f.address)
