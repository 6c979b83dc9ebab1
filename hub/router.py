"""Where a message for a cabin, a consultation's console or everyone watching a topic goes.

One hub process routes in memory (``LocalRouter``); several hub instances route through
NATS (the fleet-scale issue) behind this same interface. Delivery is best effort and
never blocks the sender: what must not be lost travels in the cabin's outbox or is
re-sent on reconnect (queue snapshots, ``doctor_attached``).

Topics: ``queue`` (waiting-room changes for doctors), ``fleet`` (cabin status changes for
technicians), ``cabin-online`` (a cabin connected: consoles attached to it re-attach)."""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Sink = Callable[[Any], Awaitable[None]]
Topic = str


class Router(abc.ABC):
    @abc.abstractmethod
    def attach_cabin(self, cabin_id: str, sink: Sink) -> None:
        """This process holds the cabin's socket; ``sink`` takes hub frames for it."""

    @abc.abstractmethod
    def detach_cabin(self, cabin_id: str, sink: Sink) -> None: ...

    @abc.abstractmethod
    async def to_cabin(self, cabin_id: str, frame: Any) -> bool:
        """True when a socket of the cabin took the frame."""

    @abc.abstractmethod
    def attach_console(self, consultation_id: str, sink: Sink) -> None: ...

    @abc.abstractmethod
    def detach_console(self, consultation_id: str, sink: Sink) -> None: ...

    @abc.abstractmethod
    async def to_console(self, consultation_id: str, message: dict[str, Any]) -> bool: ...

    @abc.abstractmethod
    def subscribe(self, topic: Topic, sink: Sink) -> None: ...

    @abc.abstractmethod
    def unsubscribe(self, topic: Topic, sink: Sink) -> None: ...

    @abc.abstractmethod
    async def publish(self, topic: Topic, message: dict[str, Any]) -> None: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (NATS)."""


class LocalRouter(Router):
    """Everything in this process: dictionaries of sinks."""

    def __init__(self) -> None:
        self._cabins: dict[str, Sink] = {}
        self._consoles: dict[str, Sink] = {}
        self._topics: dict[Topic, list[Sink]] = {}
        self.relayed = 0

    def attach_cabin(self, cabin_id: str, sink: Sink) -> None:
        self._cabins[cabin_id] = sink

    def detach_cabin(self, cabin_id: str, sink: Sink) -> None:
        if self._cabins.get(cabin_id) is sink:
            del self._cabins[cabin_id]

    async def to_cabin(self, cabin_id: str, frame: Any) -> bool:
        sink = self._cabins.get(cabin_id)
        if sink is None:
            return False
        self.relayed += 1
        await sink(frame)
        return True

    def attach_console(self, consultation_id: str, sink: Sink) -> None:
        self._consoles[consultation_id] = sink

    def detach_console(self, consultation_id: str, sink: Sink) -> None:
        if self._consoles.get(consultation_id) is sink:
            del self._consoles[consultation_id]

    async def to_console(self, consultation_id: str, message: dict[str, Any]) -> bool:
        sink = self._consoles.get(consultation_id)
        if sink is None:
            return False
        self.relayed += 1
        await sink(message)
        return True

    def subscribe(self, topic: Topic, sink: Sink) -> None:
        self._topics.setdefault(topic, []).append(sink)

    def unsubscribe(self, topic: Topic, sink: Sink) -> None:
        sinks = self._topics.get(topic, [])
        if sink in sinks:
            sinks.remove(sink)

    async def publish(self, topic: Topic, message: dict[str, Any]) -> None:
        for sink in list(self._topics.get(topic, [])):
            try:
                await sink(message)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("router: a %s subscriber failed", topic)

    @property
    def connections(self) -> dict[str, int]:
        return {
            "cabins": len(self._cabins),
            "consoles": len(self._consoles),
            **{f"topic_{t}": len(s) for t, s in self._topics.items()},
        }
