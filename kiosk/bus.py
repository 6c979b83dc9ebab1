"""A typed in-process event bus.

Components publish small frozen dataclasses; subscribers receive the events of the
types they asked for (subclasses included), in publication order, through a bounded
queue. Publishing never blocks: a subscriber that falls too far behind loses its
oldest events and the loss is counted (``dropped``), never the publisher's time.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, TypeVar

# Deep enough for a burst of instrument frames while the UI redraws; a subscriber
# this far behind is broken, and losing old events beats growing without bound.
SUBSCRIBER_QUEUE_SIZE = 1024


def _now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Root of every event on the bus."""

    at: datetime = dataclasses.field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the event's type name (for the API and the data channel)."""
        data: dict[str, Any] = {"type": type(self).__name__}
        for field in dataclasses.fields(self):
            data[field.name] = _jsonable(getattr(self, field.name))
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "value") and hasattr(value, "name") and not isinstance(value, int | str):
        return value.value  # enums
    return value


E = TypeVar("E", bound=Event)


class Subscription(Generic[E]):
    """An async iterator over the events of some types. Use as an async context manager."""

    def __init__(self, bus: EventBus, types: tuple[type[E], ...], maxsize: int) -> None:
        self._bus = bus
        self.types = types
        self._queue: asyncio.Queue[E] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        if not isinstance(event, self.types):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> E:
        return await self._queue.get()

    def get_nowait(self) -> E | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._bus._remove(self)

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[E]:
        while True:
            yield await self._queue.get()

    async def __aenter__(self) -> Subscription[E]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription[Any]] = []
        self.published = 0

    def subscribe(self, *types: type[E], maxsize: int = SUBSCRIBER_QUEUE_SIZE) -> Subscription[E]:
        if not types:
            raise ValueError("subscribe() needs at least one event type")
        sub: Subscription[E] = Subscription(self, types, maxsize)
        self._subscriptions.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        self.published += 1
        for sub in list(self._subscriptions):
            sub._offer(event)

    def _remove(self, sub: Subscription[Any]) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self._subscriptions)
