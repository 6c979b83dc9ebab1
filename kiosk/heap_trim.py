"""Give the C heap's free pages back to the system once a patient's session is over.

A cabin runs for weeks. The soak bench (bench/bench_soak.py) saw its resident memory grow
13.5 MiB over sessions 20 to 60 and then stay flat, with the Python objects' count flat:
memory freed inside glibc's malloc arenas (frames, codecs, PDFs) but kept by the process.
``malloc_trim(0)`` releases what is free at the top of each arena and the free pages
within them (glibc ≥ 2.8, man 3 malloc_trim). On another C library it does nothing."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Callable

from kiosk.bus import EventBus
from kiosk.lifecycle import State, StateChanged

log = logging.getLogger(__name__)


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


MALLOC_TRIM = _glibc_malloc_trim()


def trim_heap() -> bool:
    """True when memory was given back (glibc's answer); False elsewhere or when none was."""
    return MALLOC_TRIM is not None and MALLOC_TRIM(0) == 1


async def trim_between_patients(bus: EventBus) -> None:
    """Each time the cabin is free again (idle), trim, off the event loop. A task."""
    async with bus.subscribe(StateChanged) as changes:
        async for change in changes:
            if change.state is State.IDLE:
                released = await asyncio.to_thread(trim_heap)
                log.debug("heap trimmed between patients (memory released: %s)", released)
