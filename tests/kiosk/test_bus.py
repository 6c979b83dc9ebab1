"""The typed event bus."""

from __future__ import annotations

import dataclasses

from kiosk.bus import Event, EventBus


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ping(Event):
    n: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoudPing(Ping):
    pass


@dataclasses.dataclass(frozen=True, kw_only=True)
class Other(Event):
    text: str


async def test_subscribers_get_their_types_in_order() -> None:
    bus = EventBus()
    pings = bus.subscribe(Ping)
    everything = bus.subscribe(Event)
    bus.publish(Ping(n=1))
    bus.publish(Other(text="x"))
    bus.publish(LoudPing(n=2))
    assert [(await pings.get()).n for _ in range(2)] == [1, 2]
    assert pings.get_nowait() is None
    assert [type(await everything.get()).__name__ for _ in range(3)] == [
        "Ping",
        "Other",
        "LoudPing",
    ]


async def test_a_slow_subscriber_loses_old_events_not_the_publisher() -> None:
    bus = EventBus()
    slow = bus.subscribe(Ping, maxsize=3)
    for n in range(10):
        bus.publish(Ping(n=n))
    assert slow.dropped == 7 and bus.dropped == 7
    assert [(await slow.get()).n for _ in range(3)] == [7, 8, 9]


async def test_closed_subscription_receives_nothing() -> None:
    bus = EventBus()
    async with bus.subscribe(Ping) as sub:
        pass
    bus.publish(Ping(n=1))
    assert sub.get_nowait() is None


def test_events_serialise_to_json() -> None:
    doc = Ping(n=3).to_json()
    assert doc["type"] == "Ping" and doc["n"] == 3 and "T" in doc["at"]
