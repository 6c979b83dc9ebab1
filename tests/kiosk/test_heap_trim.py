"""Between two patients the daemon gives the C heap's free pages back (kiosk/heap_trim.py):
on glibc, memory freed by Python but kept by malloc is really released."""

from __future__ import annotations

import asyncio
import os

import pytest

from kiosk import heap_trim
from kiosk.bus import EventBus
from kiosk.lifecycle import State, StateChanged
from tests.polling import until


def rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1])


@pytest.mark.skipif(heap_trim.MALLOC_TRIM is None, reason="not glibc")
def test_freed_small_blocks_are_given_back() -> None:
    # Small blocks come from malloc's arenas (not mmap); one kept at the end holds the
    # arena's top, so only malloc_trim's page release can give the rest back.
    blocks = [bytearray(1000) for _ in range(100_000)]  # ~100 MB
    keep = bytearray(1000)
    del blocks
    before = rss_kib()
    assert heap_trim.trim_heap() is True
    after = rss_kib()
    assert before - after > 20_000, (before, after)  # KiB: at least 20 MB came back
    assert keep is not None


async def test_trimmed_when_the_cabin_is_free_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def recorded(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(heap_trim, "MALLOC_TRIM", recorded)
    bus = EventBus()
    task = asyncio.create_task(heap_trim.trim_between_patients(bus))
    try:
        await asyncio.sleep(0)  # subscribed
        bus.publish(
            StateChanged(previous=State.IDLE, state=State.CHECK_IN, reason="t", session_id="s")
        )
        await asyncio.sleep(0.1)
        assert calls == []  # a patient is in: nothing
        bus.publish(
            StateChanged(previous=State.CLEANING, state=State.IDLE, reason="t", session_id=None)
        )
        await until(lambda: calls == [0], what="the trim after the session")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
