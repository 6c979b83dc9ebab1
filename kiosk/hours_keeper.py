"""Moves the cabin between `idle` and `closed` as opening hours say.

Only `idle` closes: a consultation running at closing time goes on, and the cabin closes
once it is cleaned and back to idle."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from hub.shared.hours import OpeningHours
from kiosk.lifecycle import Lifecycle, State, StateChanged, TransitionRefused
from kiosk.site_hours import SiteHours, SiteHoursChanged

log = logging.getLogger(__name__)

# Re-check at least this often, so a clock step (NTP, DST) is noticed within a minute.
MAX_SLEEP_S = 60.0


def apply_hours(lifecycle: Lifecycle, hours: OpeningHours, now: datetime) -> State | None:
    """One step: the transition made, if any."""
    open_now = hours.is_open(now)
    try:
        if lifecycle.state is State.IDLE and not open_now:
            lifecycle.transition(State.CLOSED, "opening hours: closing")
            return State.CLOSED
        if lifecycle.state is State.CLOSED and open_now:
            lifecycle.transition(State.IDLE, "opening hours: opening")
            return State.IDLE
    except TransitionRefused as exc:
        log.warning("opening hours: %s", exc)
    return None


async def keep_hours(lifecycle: Lifecycle, source: SiteHours) -> None:
    """Follows ``source``: new hours from the hub take effect at once."""
    changes = lifecycle.bus.subscribe(StateChanged, SiteHoursChanged)
    try:
        while True:
            hours = source.current
            now = lifecycle.clock()
            apply_hours(lifecycle, hours, now)
            nxt = hours.next_change(now)
            delay = MAX_SLEEP_S if nxt is None else max(0.05, (nxt - now).total_seconds())
            try:
                async with asyncio.timeout(min(delay, MAX_SLEEP_S)):
                    await changes.get()  # a state change or new hours: look again now
            except TimeoutError:
                pass
    finally:
        changes.close()
