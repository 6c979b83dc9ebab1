"""The garbage collector's pauses, measured (gc.callbacks) for /metrics.

A full collection stops every thread of the hub for as long as it walks the heap; at a
fleet's scale that is what a status change or a relayed message waits behind at its p99
(bench/bench_hub.py). ``freeze_startup()`` moves what exists once the hub serves (modules,
models, schemas: never garbage) out of the collector's walks (gc.freeze)."""

from __future__ import annotations

import dataclasses
import gc
import time
from typing import Any


@dataclasses.dataclass
class GcPauses:
    collections: list[int] = dataclasses.field(default_factory=lambda: [0, 0, 0])
    total_s: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_s: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0])
    _started: float = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = int(info.get("generation", 0))
        if not 0 <= generation <= 2:
            return
        pause = time.perf_counter() - self._started
        self.collections[generation] += 1
        self.total_s[generation] += pause
        self.max_s[generation] = max(self.max_s[generation], pause)


# The youngest generation is collected after this many new container objects (Python's
# default: 700). Larger, most of a frame's objects are gone before a collection looks,
# so fewer survive into the older generations, whose growth is what triggers the full
# collections (bench/bench_hub.py, at 2,000 cabins: see the README for the figures).
YOUNG_THRESHOLD = 20_000


def freeze_startup() -> int:
    """Collect once, then exempt every surviving object from later collections, and make
    young collections rarer; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()
