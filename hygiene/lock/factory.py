"""The one place that chooses a lock driver from the configuration."""

from __future__ import annotations

from hygiene.config import LockSettings
from hygiene.lock.base import DoorLock


def make_lock(settings: LockSettings) -> DoorLock:
    if settings.driver == "serial_relay":
        from hygiene.lock.relay import SerialRelayLock

        assert settings.port is not None  # checked by LockSettings
        return SerialRelayLock(
            settings.port, settings.channel, settings.fail_mode, settings.baudrate
        )
    if settings.driver == "gpio":
        from hygiene.lock.gpio import GpioLock

        assert settings.gpio_line is not None  # checked by LockSettings
        return GpioLock(
            settings.gpio_chip, settings.gpio_line, settings.fail_mode, settings.door_sensor_line
        )
    from hygiene.lock.simulated import SimulatedLock

    return SimulatedLock(settings.fail_mode)
