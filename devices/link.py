"""The one interface every instrument transport implements (serial, BLE, simulated).

A link runs until cancelled: it connects, reconnects with capped backoff when the
device goes away, and reports what happens to its sink. The supervisor owns the links;
devices/factory.py picks the implementation from the configuration."""

from __future__ import annotations

import abc
from typing import Protocol

from devices.config import InstrumentSettings
from devices.measurement import Measurement
from kiosk.events import InstrumentState


class LinkSink(Protocol):
    def state(self, state: InstrumentState, detail: str = "", battery: int | None = None) -> None:
        """The instrument's state changed (detail: plain words for the technician)."""

    def measurement(self, measurement: Measurement) -> None:
        """A decoded measurement (final or intermediate)."""


class InstrumentLink(abc.ABC):
    def __init__(self, settings: InstrumentSettings) -> None:
        self.settings = settings

    @abc.abstractmethod
    async def run(self, sink: LinkSink) -> None:
        """Connect and keep connected until cancelled, reporting to ``sink``."""

    async def request_measurement(self) -> bool:
        """Start a measurement if the protocol allows it. False: the patient must act
        (the supervisor then tells them what to do)."""
        return False
