"""Events that cross component boundaries. Components may define their own events in
their packages; the ones here are the contract between packages.

Events stay in the process (and reach the patient UI and the doctor's data channel);
they may carry patient data, so never log an event's fields."""

from __future__ import annotations

import dataclasses
from typing import Literal

from devices.measurement import Measurement
from kiosk.bus import Event

InstrumentState = Literal["absent", "ready", "measuring", "error", "low_battery"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstrumentStateChanged(Event):
    instrument: str  # configured name
    kind: str  # InstrumentKind value
    state: InstrumentState
    detail: str = ""  # plain words for the technician, no patient data
    battery_percent: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeasurementTaken(Event):
    instrument: str
    measurement: Measurement


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeasurementRequested(Event):
    """The doctor (or the demo) asks for a measurement on an instrument."""

    instrument: str
    requested_by: str = "doctor"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PatientInstruction(Event):
    """Something the patient should do, shown large on the touchscreen (and spoken)."""

    text: str
    source: Literal["doctor", "instrument", "cabin"] = "doctor"
    instrument: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChatMessage(Event):
    sender: Literal["doctor", "patient"]
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CallStateChanged(Event):
    state: Literal["waiting", "connecting", "connected", "reconnecting", "ended"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DoctorsReachable(Event):
    """Whether a doctor can come now: the cabin's link to the hub is up (or went down)."""

    reachable: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsultationEndRequested(Event):
    by: Literal["doctor", "timeout", "patient"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrintJobUpdated(Event):
    """Progress of a print, for the patient, doctor and technician: a prescription, or the
    patient's copy of the consultation report (kiosk/record)."""

    document_id: str
    document: Literal["prescription", "report"]
    state: Literal["stored", "queued", "printing", "completed", "retrying", "failed"]
    message_patient: str = ""  # plain French words, what to do
    message_doctor: str = ""
    message_technician: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DisinfectionLogged(Event):
    session_id: str
    entry_hash: str
