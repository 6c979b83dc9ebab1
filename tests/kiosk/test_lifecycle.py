"""Every legal and illegal transition, the guards, and persistence before side effects."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.bus import EventBus
from kiosk.db import Transaction
from kiosk.lifecycle import Lifecycle, LifecycleStore, State, StateChanged, TransitionRefused
from kiosk.lifecycle.states import LOCKED_STATES, TRANSITIONS

S = State

# A path from a fresh cabin (idle) to each state, through legal transitions only.
PATHS: dict[State, list[State]] = {
    S.IDLE: [],
    S.CLOSED: [S.CLOSED],
    S.CHECK_IN: [S.CHECK_IN],
    S.WAITING: [S.CHECK_IN, S.WAITING],
    S.IN_CONSULTATION: [S.CHECK_IN, S.WAITING, S.IN_CONSULTATION],
    S.CHECKOUT: [S.CHECK_IN, S.WAITING, S.IN_CONSULTATION, S.CHECKOUT],
    S.AWAITING_DISINFECTION: [S.CHECK_IN, S.AWAITING_DISINFECTION],
    S.CLEANING: [S.CHECK_IN, S.AWAITING_DISINFECTION, S.CLEANING],
    S.OUT_OF_SERVICE: [S.OUT_OF_SERVICE],
}


def make(tmp_path: Path, *, open_: bool = True) -> tuple[Lifecycle, EventBus]:
    bus = EventBus()
    store = LifecycleStore(tmp_path / "cabin.sqlite3")
    return Lifecycle(store, bus, is_open=lambda _: open_), bus


def drive(lc: Lifecycle, path: list[State]) -> None:
    for target in path:
        lc.transition(target, "test")


def disinfect(lc: Lifecycle) -> None:
    session = lc.store.undisinfected_session()
    assert session is not None
    with Transaction(lc.store.conn) as conn:
        LifecycleStore.mark_disinfected(conn, session, "log-entry-1", datetime.now(UTC))


def test_first_start_is_idle_when_open_and_closed_otherwise(tmp_path: Path) -> None:
    assert make(tmp_path / "a", open_=True)[0].state is S.IDLE
    assert make(tmp_path / "b", open_=False)[0].state is S.CLOSED


@pytest.mark.parametrize(("source", "target"), list(itertools.product(State, State)))
def test_every_transition(tmp_path: Path, source: State, target: State) -> None:
    lc, bus = make(tmp_path)
    drive(lc, PATHS[source])
    assert lc.state is source
    legal = target in TRANSITIONS[source]
    # Leaving a patient session for idle/closed/check_in needs the logged disinfection.
    needs_log = target in (S.IDLE, S.CLOSED, S.CHECK_IN) and lc.store.undisinfected_session()
    events = bus.subscribe(StateChanged)
    before = (lc.state, lc.since, lc.session_id, len(lc.store.transitions(1000)))
    if legal and not needs_log:
        event = lc.transition(target, "test")
        assert lc.state is target and event.state is target and event.previous is source
        stored = lc.store.load()
        assert stored is not None and stored.state is target
        assert events.get_nowait() == event
    else:
        with pytest.raises(TransitionRefused):
            lc.transition(target, "test")
        after = (lc.state, lc.since, lc.session_id, len(lc.store.transitions(1000)))
        assert after == before, "a refused transition changed something"
        stored = lc.store.load()
        assert stored is not None and stored.state is source
        assert events.get_nowait() is None, "a refused transition published an event"


def test_check_in_opens_a_session_and_the_next_needs_a_logged_disinfection(
    tmp_path: Path,
) -> None:
    lc, _ = make(tmp_path)
    drive(lc, [S.CHECK_IN])
    first = lc.session_id
    assert first is not None and lc.store.undisinfected_session() == first
    drive(lc, [S.AWAITING_DISINFECTION, S.CLEANING])
    with pytest.raises(TransitionRefused, match="no logged disinfection"):
        lc.transition(S.IDLE, "referent done")
    disinfect(lc)
    lc.transition(S.IDLE, "referent done")
    assert lc.session_id is None and lc.store.undisinfected_session() is None
    lc.transition(S.CHECK_IN, "next patient")
    assert lc.session_id not in (None, first)
    record = lc.store.session(first)
    assert record is not None and record.disinfection_ref == "log-entry-1"


def test_out_of_service_cannot_free_a_cabin_without_disinfection(tmp_path: Path) -> None:
    lc, _ = make(tmp_path)
    drive(lc, [S.CHECK_IN, S.WAITING, S.OUT_OF_SERVICE])
    for target in (S.IDLE, S.CLOSED):
        with pytest.raises(TransitionRefused):
            lc.transition(target, "technician cleared")
    lc.transition(S.AWAITING_DISINFECTION, "technician cleared")
    assert lc.locked


def test_check_in_refused_outside_opening_hours(tmp_path: Path) -> None:
    is_open = [True]
    lc = Lifecycle(LifecycleStore(tmp_path / "db"), EventBus(), is_open=lambda _: is_open[0])
    is_open[0] = False
    with pytest.raises(TransitionRefused, match="opening hours"):
        lc.transition(S.CHECK_IN, "patient")
    assert lc.state is S.IDLE


def test_the_transition_is_on_disk_before_subscribers_hear_of_it(tmp_path: Path) -> None:
    lc, bus = make(tmp_path)
    seen: list[State] = []
    other = LifecycleStore(tmp_path / "cabin.sqlite3")  # another connection, as after a crash

    class Spy:
        def _offer(self, event: object) -> None:
            stored = other.load()
            assert stored is not None
            seen.append(stored.state)

    bus._subscriptions.append(Spy())  # type: ignore[arg-type]
    lc.transition(S.CHECK_IN, "patient")
    assert seen == [S.CHECK_IN]


def test_locked_in_every_state_but_idle(tmp_path: Path) -> None:
    for state, path in PATHS.items():
        lc, _ = make(tmp_path / state.value)
        drive(lc, path)
        assert lc.locked is (state in LOCKED_STATES)
        assert lc.locked is (state is not S.IDLE)


@pytest.mark.parametrize("state", list(State))
def test_recovery_never_frees_an_undisinfected_cabin(tmp_path: Path, state: State) -> None:
    lc, _ = make(tmp_path)
    drive(lc, PATHS[state])
    had_session = lc.store.undisinfected_session() is not None
    lc.store.close()
    # The process dies; a new one starts on the same database.
    lc2, _ = make(tmp_path)
    assert lc2.state is state
    lc2.recover()
    if had_session:
        assert lc2.locked
        assert lc2.state in (S.AWAITING_DISINFECTION, S.CHECKOUT, S.OUT_OF_SERVICE)
        with pytest.raises(TransitionRefused):
            lc2.transition(S.CHECK_IN, "next patient")
    elif state is S.OUT_OF_SERVICE:
        assert lc2.state is S.OUT_OF_SERVICE
    else:
        assert lc2.state in (S.IDLE, S.CLOSED)


def test_old_disinfected_sessions_are_purged_open_ones_never(tmp_path: Path) -> None:
    lc, _ = make(tmp_path)
    drive(lc, [S.CHECK_IN, S.AWAITING_DISINFECTION, S.CLEANING])
    disinfect(lc)
    drive(lc, [S.IDLE, S.CHECK_IN, S.AWAITING_DISINFECTION])
    future = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    assert lc.store.purge_sessions(future) == 1
    assert lc.store.undisinfected_session() == lc.session_id  # the open one stays
