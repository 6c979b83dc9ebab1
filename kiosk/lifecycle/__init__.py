"""The cabin's lifecycle: one persisted state machine."""

from kiosk.lifecycle.machine import Lifecycle, TransitionRefused
from kiosk.lifecycle.states import LOCKED_STATES, PATIENT_STATES, State, StateChanged
from kiosk.lifecycle.store import LifecycleStore, SessionRecord

__all__ = [
    "LOCKED_STATES",
    "PATIENT_STATES",
    "Lifecycle",
    "LifecycleStore",
    "SessionRecord",
    "State",
    "StateChanged",
    "TransitionRefused",
]
