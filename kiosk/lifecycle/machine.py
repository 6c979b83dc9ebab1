"""The lifecycle state machine: guarded, persisted transitions.

A transition is committed to SQLite before StateChanged is published, and every side
effect (lock, UI, printing...) is a subscriber to StateChanged: a crash between the two
resumes from the committed state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from kiosk.bus import EventBus
from kiosk.lifecycle.states import (
    LOCKED_STATES,
    NEEDS_DISINFECTION_LOGGED,
    TRANSITIONS,
    State,
    StateChanged,
)
from kiosk.lifecycle.store import LifecycleStore

log = logging.getLogger(__name__)

# Where a cabin found in a state at start-up resumes. Patient states whose context was
# in memory only (check-in, waiting) end the session; a consultation goes to checkout so
# the patient is told about the prescription; cleaning starts over.
RECOVERY: dict[State, State] = {
    State.CHECK_IN: State.AWAITING_DISINFECTION,
    State.WAITING: State.AWAITING_DISINFECTION,
    State.IN_CONSULTATION: State.CHECKOUT,
    State.CHECKOUT: State.CHECKOUT,
    State.CLEANING: State.AWAITING_DISINFECTION,
    State.AWAITING_DISINFECTION: State.AWAITING_DISINFECTION,
    State.OUT_OF_SERVICE: State.OUT_OF_SERVICE,
}


class TransitionRefused(Exception):
    """The transition is illegal or its guard failed. Nothing was changed."""

    def __init__(self, current: State, target: State, why: str) -> None:
        self.current = current
        self.target = target
        self.why = why
        super().__init__(f"{current.value} -> {target.value} refused: {why}")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Lifecycle:
    def __init__(
        self,
        store: LifecycleStore,
        bus: EventBus,
        *,
        is_open: Callable[[datetime], bool] = lambda _: True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.bus = bus
        self.is_open = is_open
        self.clock = clock
        stored = store.load()
        if stored is None:
            now = clock()
            initial = State.IDLE if is_open(now) else State.CLOSED
            store.write_transition(None, initial, now, "first start", None)
            stored = store.load()
            assert stored is not None
        self._state = stored.state
        self._since = stored.since
        self._session_id = stored.session_id

    @property
    def state(self) -> State:
        return self._state

    @property
    def since(self) -> datetime:
        return self._since

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def locked(self) -> bool:
        """True while a new patient would be refused."""
        return self._state in LOCKED_STATES

    def check(self, target: State) -> str | None:
        """Why the transition to ``target`` would be refused, or None if it is allowed."""
        if target not in TRANSITIONS[self._state]:
            return "not a legal transition"
        if target in NEEDS_DISINFECTION_LOGGED:
            pending = self.store.undisinfected_session()
            if pending is not None:
                return f"session {pending} has no logged disinfection"
        if target in (State.CHECK_IN, State.IDLE) and not self.is_open(self.clock()):
            return "outside opening hours"
        return None

    def transition(self, target: State, reason: str) -> StateChanged:
        why = self.check(target)
        if why is not None:
            raise TransitionRefused(self._state, target, why)
        return self._commit(target, reason)

    def _commit(self, target: State, reason: str) -> StateChanged:
        previous, now = self._state, self.clock()
        opening = target is State.CHECK_IN
        session_id = self.store.new_session_id() if opening else self._session_id
        if target in (State.IDLE, State.CLOSED):
            session_id = None
        self.store.write_transition(previous, target, now, reason, session_id, open_session=opening)
        self._state, self._since, self._session_id = target, now, session_id
        event = StateChanged(
            at=now, previous=previous, state=target, reason=reason, session_id=session_id
        )
        log.info("state %s -> %s (%s)", previous.value, target.value, reason)
        self.bus.publish(event)
        return event

    def recover(self) -> StateChanged | None:
        """Called once at start-up: move out of states whose context died with the process.
        Never frees the cabin while a session's disinfection is not logged (invariant 1)."""
        current = self._state
        target = RECOVERY.get(current)
        if target is None:  # idle or closed
            if self.store.undisinfected_session() is not None:
                target = State.AWAITING_DISINFECTION  # should not happen; be safe
            else:
                target = State.IDLE if self.is_open(self.clock()) else State.CLOSED
        if target is current:
            return None
        if target in (State.AWAITING_DISINFECTION, State.CHECKOUT) and self._session_id is None:
            self._session_id = self.store.undisinfected_session()
        # Recovery is the one path that bypasses the transition table: the process that
        # was in `current` is gone, so the guarded edge that would lead out of it may not
        # exist (e.g. waiting -> awaiting_disinfection without a patient).
        return self._commit(target, f"recovered after restart from {current.value}")

    def record_instrument_used(self, instrument: str) -> None:
        if self._session_id is not None and self._state in (
            State.CHECK_IN,
            State.WAITING,
            State.IN_CONSULTATION,
            State.CHECKOUT,
        ):
            self.store.record_instrument_used(self._session_id, instrument)
