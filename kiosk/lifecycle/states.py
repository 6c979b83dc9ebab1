"""The states of a cabin and the transitions allowed between them."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from kiosk.bus import Event


class State(StrEnum):
    CLOSED = "closed"
    IDLE = "idle"
    CHECK_IN = "check_in"
    WAITING = "waiting"
    IN_CONSULTATION = "in_consultation"
    CHECKOUT = "checkout"
    AWAITING_DISINFECTION = "awaiting_disinfection"
    CLEANING = "cleaning"
    OUT_OF_SERVICE = "out_of_service"


S = State

# Every legal transition. Anything else raises TransitionRefused and changes nothing.
TRANSITIONS: dict[State, frozenset[State]] = {
    S.CLOSED: frozenset({S.IDLE, S.OUT_OF_SERVICE}),
    S.IDLE: frozenset({S.CLOSED, S.CHECK_IN, S.OUT_OF_SERVICE}),
    # A patient who gives up during check-in has still been in the booth.
    S.CHECK_IN: frozenset({S.WAITING, S.AWAITING_DISINFECTION, S.OUT_OF_SERVICE}),
    S.WAITING: frozenset(
        {S.IN_CONSULTATION, S.CHECKOUT, S.AWAITING_DISINFECTION, S.OUT_OF_SERVICE}
    ),
    S.IN_CONSULTATION: frozenset({S.CHECKOUT, S.OUT_OF_SERVICE}),
    S.CHECKOUT: frozenset({S.AWAITING_DISINFECTION, S.OUT_OF_SERVICE}),
    S.AWAITING_DISINFECTION: frozenset({S.CLEANING, S.OUT_OF_SERVICE}),
    S.CLEANING: frozenset({S.IDLE, S.CLOSED, S.AWAITING_DISINFECTION, S.OUT_OF_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.IDLE, S.CLOSED, S.AWAITING_DISINFECTION}),
}

# States in which a patient session is open (entered at check_in).
PATIENT_STATES = frozenset({S.CHECK_IN, S.WAITING, S.IN_CONSULTATION, S.CHECKOUT})

# States that take a new patient: only idle. Everything else refuses entry.
LOCKED_STATES = frozenset(State) - {S.IDLE}

# Leaving for these states frees the cabin for a new patient, so they require that the
# last session's disinfection is logged (invariant 1).
NEEDS_DISINFECTION_LOGGED = frozenset({S.IDLE, S.CLOSED, S.CHECK_IN})


@dataclasses.dataclass(frozen=True, kw_only=True)
class StateChanged(Event):
    previous: State
    state: State
    reason: str
    session_id: str | None
